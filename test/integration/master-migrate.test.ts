// Moving to the store layout of issue 12 (docs/deploy.md): a table of the old layout, with the
// items as the old store wrote them, copied by `vigil migrate` (migrateTable) into a new table;
// the master on the new table serves the same fleet: the old tokens work, reprocess flags
// pending before are served, last reports, crimes, history, bangs and quotas are there. The
// local master does it by itself for an old data dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../functions/app.ts';
import { sha256Hex, newComputerToken } from '../../functions/auth.ts';
import { startEmbeddedStore } from '../../functions/local/embedded-store.ts';
import { startLocalMaster } from '../../functions/local/master.ts';
import { main as migrateMain } from '../../functions/local/migrate-cli.ts';
import { runSweep } from '../../functions/services/sweep.ts';
import { createDynamoStore, migrateTable } from '../../functions/store/dynamo.ts';
import { legacy } from '../../functions/store/table.ts';
import { createVigilClient } from '../../protocol/client.ts';
import { type AwsFixture, createAwsFixture, uniqueName } from '../helpers/aws.ts';
import { testClock } from '../helpers/master.ts';

const T = '2025-06-01T12:00:00.000Z';
const later = (s: number) => new Date(Date.parse(T) + s * 1000).toISOString();
const ADMIN = 'va1.migration-admin';

/** The items of a small fleet as the store before issue 12 wrote them. */
function v1Items(token: string): Record<string, unknown>[] {
  const computer = {
    pk: 'C#old-c', sk: '#META', type: 'computer', computerId: 'old-c', tokenHash: sha256Hex(token), instantiationFrequencySeconds: 86400,
    colour: 'green', colourReason: 'in contact with the master', colourSince: T, createdAt: T, updatedAt: T, lastContactAt: T, agentVersion: '0.9',
    gsi2pk: 'COMPUTER', gsi2sk: 'old-c', gsi3pk: 'SWEEP', gsi3sk: later(300),
  };
  const sr = { pk: 'SR#old-sr', sk: '#META', type: 'sr', softwareReleaseId: 'old-sr', url: 'https://example.com/sr.cfg', periodicitySeconds: 86400, bangQuotaPerDay: 5, createdAt: T, updatedAt: T, gsi2pk: 'SR', gsi2sk: 'old-sr' };
  const lastReport = { reportId: 'r2', kind: 'anomaly', startedAt: later(60), durationMs: 10, ok: false, error: null, receivedAt: later(61), promiseCount: 2, failed: [{ name: 'b.json', message: 'b is down' }] };
  const partition = (id: string, extra: Record<string, unknown>) => ({
    pk: 'C#old-c', sk: `P#${id}`, type: 'partition', partitionId: id, computerId: 'old-c', instanceTreeId: 'old-tree', softwareReleaseId: 'old-sr',
    periodicitySeconds: 86400, bangQuotaPerDay: 5, computerFrequencySeconds: 86400, createdAt: T, updatedAt: T,
    gsi1pk: 'T#old-tree', gsi1sk: `P#${id}`, gsi2pk: 'PARTITION', gsi2sk: id, gsi4pk: 'SR#old-sr', gsi4sk: `P#${id}`,
    ...extra,
  });
  const p1 = partition('old-p1', {
    colour: 'red', colourReason: 'promise b.json failed: b is down', colourSince: later(61), lastReport, lastReportKey: `${later(60)}#r2`,
    crimeState: { promises: { 'n:a.json': { passed: true, failures: 0 }, 'n:b.json': { passed: false, failures: 4 } }, lastInstantiationMs: 1200, lastInstantiationEnd: Date.parse(T) + 1200, busyStreak: 0, allEveryMinute: false },
    reprocessRequestedAt: later(90), reprocessReason: 'bang from old-p2 (watchdog): down', reprocessBangId: 'old-bang',
  });
  const p2 = partition('old-p2', { colour: 'red', colourReason: 'no report yet', colourSince: T, lastBangAt: later(90), gsi3pk: 'SWEEP', gsi3sk: later(90) });
  const expiresAt = Math.floor(Date.parse(T) / 1000) + 7 * 86400;
  const history = [
    { pk: 'H#old-p1', sk: `~R#${T}#r1`, type: 'report', partitionId: 'old-p1', expiresAt, reportId: 'r1', kind: 'instantiation', startedAt: T, durationMs: 1200, ok: true, error: null, receivedAt: later(1), promiseCount: 2, failed: [] },
    { pk: 'H#old-p1', sk: `P#a.json#${T}#r1`, type: 'history', partitionId: 'old-p1', expiresAt, name: 'a.json', title: 'a', kind: 'test', failed: false, message: 'a ok', date: T, executionTimeMs: 3, reportId: 'r1', receivedAt: later(1) },
    { pk: 'H#old-p1', sk: `P#t.json#${T}#r1`, type: 'history', partitionId: 'old-p1', expiresAt, name: 't.json', title: 't', kind: 'test', failed: false, message: 't ok', date: T, executionTimeMs: 3, reportId: 'r1', receivedAt: later(1) },
    { pk: 'H#old-p1', sk: `~R#${later(60)}#r2`, type: 'report', partitionId: 'old-p1', expiresAt, ...lastReport },
    { pk: 'H#old-p1', sk: `P#a.json#${later(60)}#r2`, type: 'history', partitionId: 'old-p1', expiresAt, name: 'a.json', title: 'a', kind: 'anomaly', failed: false, message: 'a fine', date: later(60), executionTimeMs: 2, reportId: 'r2', receivedAt: later(61) },
    { pk: 'H#old-p1', sk: `P#b.json#${later(60)}#r2`, type: 'history', partitionId: 'old-p1', expiresAt, name: 'b.json', title: 'b', kind: 'anomaly', failed: true, message: 'b is down', date: later(60), executionTimeMs: 2, reportId: 'r2', receivedAt: later(61) },
  ];
  const bang = {
    pk: 'B#old-p2', sk: 'B#old-bang', type: 'bang', bangId: 'old-bang', partitionId: 'old-p2', computerId: 'old-c', instanceTreeId: 'old-tree', message: 'down', source: 'watchdog',
    createdAt: later(90), fannedOutTo: 2, fanOut: 'done', fanOutCompletedAt: later(91), accepted: true, gsi2pk: 'BANG', gsi2sk: `${later(90)}#old-p2#old-bang`,
  };
  const quota = { pk: 'Q#old-p2', sk: 'D#2025-06-01', type: 'quota', used: 1, expiresAt: expiresAt + 86400 };
  return [computer, sr, p1, p2, ...history, bang, quota];
}

async function putAll(client: DynamoDBClient, table: string, items: Record<string, unknown>[]): Promise<void> {
  const doc = DynamoDBDocumentClient.from(client);
  for (let i = 0; i < items.length; i += 25) {
    await doc.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

/** What a master on the migrated table serves. */
async function checkFleet(client: ReturnType<typeof createVigilClient>, token: string) {
  const hb = await client.withToken(token).heartbeat('old-c', { agentVersion: '1.0' });
  expect(hb.partitions.map((p) => p.partitionId).sort()).toEqual(['old-p1', 'old-p2']);
  // the flag fanned out before the migration, not handled yet
  expect(hb.reprocess).toEqual([{ partitionId: 'old-p1', requestedAt: later(90), reason: 'bang from old-p2 (watchdog): down' }]);
  const p1 = await client.getPartition('old-p1');
  expect(p1).toMatchObject({ lastReport: { reportId: 'r2', kind: 'anomaly', failed: [{ name: 'b.json', message: 'b is down' }] }, colour: 'red' });
  expect(p1.crimes.map((c) => c.message)).toEqual(['promise b.json never passed (failed in 4 reports)']);
  const promises = await client.partitionPromises('old-p1');
  // the latest of each kind: a.json and b.json from r2 (anomaly), t.json from r1 (instantiation)
  expect(promises.promises.map((p) => [p.name, p.latest.reportId])).toEqual([
    ['a.json', 'r2'],
    ['b.json', 'r2'],
    ['t.json', 'r1'],
  ]);
  expect(promises.reports.map((r) => r.reportId)).toEqual(['r2', 'r1']);
  expect((await client.listBangs({ partitionId: 'old-p2' })).bangs.map((b) => b.bangId)).toEqual(['old-bang']);
  expect((await client.getPartition('old-p2')).bangsToday).toBe(1);
  expect((await client.listSoftwareReleases()).softwareReleases.map((s) => s.softwareReleaseId)).toEqual(['old-sr']);
  expect((await client.getInstanceTree('old-tree')).colour).toBe('red');
}

describe('vigil migrate: a table of the old layout into a new one', () => {
  let aws: AwsFixture;
  let oldTable: string;
  const token = newComputerToken('old-c');
  beforeAll(async () => {
    aws = await createAwsFixture();
    oldTable = uniqueName('vigil-v1');
    await aws.dynamo.send(new CreateTableCommand(legacy.tableDefinition(oldTable)));
    await putAll(aws.dynamo, oldTable, v1Items(token));
  });
  afterAll(() => aws?.dispose());

  it('the master on the new table serves the old fleet: tokens, pending flags, reports, crimes, history, bangs, quota', async () => {
    const r = await migrateTable(aws.dynamo, oldTable, aws.tableName, { now: later(120) });
    expect(r).toEqual({ computers: 1, softwareReleases: 1, partitions: 2, bangs: 1, quotaCounters: 1, sessions: 0, reports: 2 });
    const clock = testClock(later(120));
    const store = createDynamoStore({ client: aws.dynamo, tableName: aws.tableName });
    const app = createApp({ store, queue: { send: async () => {} }, now: clock.now, adminToken: () => ADMIN, dashboard: false });
    const client = createVigilClient({ fetch: (p, i) => app.request(p, i), token: ADMIN });
    await checkFleet(client, token);
    // the first sweep records every migrated partition's colour; the summary counts them
    const s = await runSweep({ store }, clock.now());
    expect(s.summary).toMatchObject({ computers: { green: 1, orange: 0, red: 0 }, partitionsRed: 2 });
    expect((await client.summary()).partitions).toEqual({ green: 0, red: 2 });
    // running it again (the master running on the new table) overwrites nothing: only the history is written again
    await client.withToken(token).report('old-p1', { reportId: 'r3', kind: 'anomaly', startedAt: later(130), durationMs: 5, ok: true, promises: [] });
    expect(await migrateTable(aws.dynamo, oldTable, aws.tableName, { now: later(120) })).toEqual({ computers: 0, softwareReleases: 0, partitions: 0, bangs: 0, quotaCounters: 0, sessions: 0, reports: 2 });
    expect((await client.getPartition('old-p1')).lastReport?.reportId).toBe('r3');
    expect((await client.summary()).partitions).toEqual({ green: 0, red: 2 });
  });

  it('the command: refuses a table that is not of the old layout, fills a new table it creates', async () => {
    const endpoint = inject('dynamoEndpoint');
    expect(await migrateMain(['--from', aws.tableName, '--to', uniqueName('x'), '--dynamodb-endpoint', endpoint])).toBe(1);
    const target = uniqueName('vigil-v2');
    expect(await migrateMain(['--from', oldTable, '--to', target, '--dynamodb-endpoint', endpoint, '--no-history'])).toBe(0);
    expect((await aws.dynamo.send(new ListTablesCommand({}))).TableNames).toContain(target);
    expect(await migrateMain(['--from', oldTable])).toBe(2);
  });
});

describe('the local master on a data dir of the old layout', () => {
  let dir: string;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('moves it to the new layout once, at start', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-migrate-'));
    const token = newComputerToken('old-c');
    // the old master's store: table `vigil` of the old layout in the data dir
    const embedded = await startEmbeddedStore({ dataDir: dir });
    const dynamo = new DynamoDBClient({ endpoint: `http://127.0.0.1:${embedded.port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await dynamo.send(new CreateTableCommand(legacy.tableDefinition('vigil')));
    await putAll(dynamo, 'vigil', v1Items(token));
    dynamo.destroy();
    await embedded.close();
    const lines: string[] = [];
    let master = await startLocalMaster({ port: 0, dataDir: dir, adminToken: ADMIN, now: () => new Date(later(120)), log: (l) => lines.push(l) });
    try {
      expect(lines.some((l) => l.includes('migrated 1 computers, 2 partitions, 2 reports, 1 bangs'))).toBe(true);
      await checkFleet(createVigilClient({ baseUrl: master.url, token: ADMIN }), token);
    } finally {
      await master.stop();
    }
    lines.length = 0;
    master = await startLocalMaster({ port: 0, dataDir: dir, adminToken: ADMIN, now: () => new Date(later(180)), log: (l) => lines.push(l) });
    try {
      expect(lines.some((l) => l.includes('migrated'))).toBe(false);
      expect((await createVigilClient({ baseUrl: master.url, token: ADMIN }).getPartition('old-p1')).lastReport?.reportId).toBe('r2');
    } finally {
      await master.stop();
    }
  });
});
