// The per-call DynamoDB capacity budgets of SPEC §5, MEASURED on DynamoDB Local
// (ReturnConsumedCapacity=INDEXES, test/helpers/capacity.ts): a regression of the store's
// layout fails here. bench/capacity.bench.ts measures the same calls at the fleet's size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../functions/services/sweep.ts';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../functions/store/table.ts';
import { type CapacityMeter, itemBytes, meterCapacity, type Units } from '../helpers/capacity.ts';
import { createTestMaster, type TestMaster } from '../helpers/master.ts';
import { addComputer, addPartition, addSr, report } from '../helpers/master-fleet.ts';

const COMPUTERS = 100;
const PER_COMPUTER = 3;
const PROMISES = Array.from({ length: 10 }, (_, k) => `check-${['url-available', 'socket', 'free-disk-space', 'certificate', 'error-log', 'service', 'file', 'command', 'buildout', 'bootstrap'][k]}.json`);
const cid = (c: number) => `comp-${String(c).padStart(4, '0')}`;
const pid = (c: number, j: number) => `part-${String(c).padStart(4, '0')}-${String(j).padStart(2, '0')}`;

let m: TestMaster;
let meter: CapacityMeter;
const tokens: string[] = [];

/** A report of the 10 promises (one failing when asked), as the bench sends it. */
function tenPromises(id: string, at: Date, failing = false) {
  return report(
    id,
    at,
    PROMISES.map((name, k) => ({
      name,
      failed: failing && k === 0,
      message: failing && k === 0 ? "non-authenticated request to 'https://10.0.12.4:8443/' failed (returned 503, expected 200)" : `${name}: OK (checked in ${20 + k} ms)`,
    })),
  );
}

/** Units of `n` calls of `fn`, per call. */
async function perCall(n: number, fn: (i: number) => Promise<unknown>): Promise<Units> {
  const { units } = await meter.measure(async () => {
    for (let i = 0; i < n; i++) await fn(i);
  });
  return { ...units, read: units.read / n, write: (units.write + units.refusedWrites) / n };
}

beforeAll(async () => {
  m = await createTestMaster({ dashboard: false });
  meter = meterCapacity(m.aws.dynamo);
  await addSr(m, 'sr', { periodicitySeconds: 86400 });
  for (let c = 0; c < COMPUTERS; c++) {
    tokens.push(await addComputer(m, cid(c)));
    for (let j = 0; j < PER_COMPUTER; j++) await addPartition(m, pid(c, j), cid(c), `tree-${j}`, 'sr');
  }
  for (let c = 0; c < COMPUTERS; c++) {
    await m.as(tokens[c] as string).heartbeat(cid(c), { agentVersion: '1' });
    for (let j = 0; j < PER_COMPUTER; j++) await m.as(tokens[c] as string).report(pid(c, j), tenPromises(`seed-${c}-${j}`, m.clock.now()));
  }
  m.clock.advance(30_000);
  await runSweep(m, m.clock.now());
}, 300_000);
afterAll(() => m?.dispose());

describe('SPEC §5 budgets, measured', () => {
  it('a heartbeat: ≤ 1 write unit and ≤ 0.5 read unit', async () => {
    m.clock.advance(60_000);
    const u = await perCall(20, (i) => m.as(tokens[i] as string).heartbeat(cid(i), { agentVersion: '1' }));
    expect(u.write).toBeLessThanOrEqual(1);
    expect(u.read).toBeLessThanOrEqual(0.5);
    // no index written by a heartbeat
    expect(Object.keys(u.byTarget)).toEqual(['table']);
  });

  it('a report with 10 promises: ≤ 5 write units + 1 read unit (kept, and green → red)', async () => {
    m.clock.advance(1000);
    const kept = await perCall(20, (i) => m.as(tokens[i] as string).report(pid(i, 1), tenPromises(`ok-${i}`, m.clock.now())));
    expect(kept.write).toBeLessThanOrEqual(5);
    expect(kept.read).toBeLessThanOrEqual(1);
    m.clock.advance(1000);
    const red = await perCall(20, (i) => m.as(tokens[i] as string).report(pid(i, 2), tenPromises(`bad-${i}`, m.clock.now(), true)));
    expect(red.write).toBeLessThanOrEqual(5);
    expect(red.read).toBeLessThanOrEqual(1);
    expect((await m.api.getPartition(pid(0, 2))).colour).toBe('red');
  });

  it('the minute sweep of a quiet fleet: reads proportional to the computers only (≤ 50 read units at 1,000 × 10)', async () => {
    m.clock.advance(60_000);
    for (let c = 0; c < COMPUTERS; c++) await m.as(tokens[c] as string).heartbeat(cid(c), { agentVersion: '1' });
    await runSweep(m, m.clock.now());
    m.clock.advance(30_000);
    const u = await perCall(1, () => runSweep(m, m.clock.now()));
    // Two index queries at 0.5 unit each whatever the fleet (partitions due: none; red
    // partitions: the few of the previous test), plus the computer collection, read
    // eventually consistent: 0.5 unit per 4 KB, i.e. proportional to the computers. The
    // budget scaled to this fleet: 1 + 49 × computers / 1,000.
    expect(u.read).toBeLessThanOrEqual(1 + (49 * COMPUTERS) / 1000);
    expect(u.byTarget.table?.read ?? 0).toBeLessThanOrEqual((49 * COMPUTERS) / 1000);
    // its only write: the summary item
    expect(u.write).toBe(1);
  });

  it('GET /v1/summary: one read, whatever the fleet', async () => {
    const u = await perCall(5, () => m.api.summary());
    expect(u.read).toBeLessThanOrEqual(0.5);
    expect(u.write).toBe(0);
  });

  it('a forged token of a known computer, a malformed one, an admin guess: no unit', async () => {
    const forged = `vc1.${Buffer.from(cid(0)).toString('base64url')}.${'A'.repeat(43)}`;
    await m.call('POST', `/v1/computers/${cid(0)}/heartbeat`, { agentVersion: 'x' }, forged);
    for (const token of [forged, 'vc1.garbage', 'not-a-token', `vc1.${Buffer.from(cid(1)).toString('base64url')}.x`]) {
      const u = await perCall(20, () => m.call('POST', `/v1/computers/${cid(0)}/heartbeat`, { agentVersion: 'x' }, token));
      expect(u.read + u.write, token).toBe(0);
    }
    const admin = await perCall(20, () => m.call('GET', '/v1/computers', undefined, 'wrong-admin-token'));
    expect(admin.read + admin.write).toBe(0);
  });

  it('a page of 100 partitions: ≤ 0.5 read unit per partition (+ its index page)', async () => {
    const u = await perCall(1, () => m.api.listPartitions({ limit: 100 }));
    expect(u.read).toBeLessThanOrEqual(51);
    const computers = await perCall(1, () => m.api.listComputers({ limit: 100 }));
    expect(computers.read).toBeLessThanOrEqual(5);
  });
});

describe('the partition item stays under 1 KB, with room for issue 13', () => {
  const raw = async (computerId: string, partitionId: string) =>
    (await DynamoDBDocumentClient.from(m.aws.dynamo).send(new GetCommand({ TableName: m.aws.tableName, Key: keys.partition(computerId, partitionId) }))).Item ?? {};

  it('red by a 200-character failure (the usual red item): ≤ 640 bytes, 1 write unit with room for issue 13', async () => {
    const p = pid(6, 0);
    m.clock.advance(1000);
    const promises = Array.from({ length: 10 }, (_, k) => ({ name: `check-${k}.json`, failed: k === 0, message: k === 0 ? 'y'.repeat(200) : '' }));
    await m.as(tokens[6] as string).report(p, report('usual-red', m.clock.now(), promises));
    const size = itemBytes(await raw(cid(6), p));
    console.log(`partition item, red by one 200-character failure: ${size} bytes`);
    expect(size).toBeLessThanOrEqual(640);
  });

  it('red with every kept text at its maximum, a crime, a pending reprocess: under 1.25 KB (2 write units, only while the flag is pending)', async () => {
    const c = cid(5);
    const p = pid(5, 0);
    // a failing promise with a 5000-character message, ten more failing, a 2000-character error: three times (a crime)
    for (let r = 0; r < 3; r++) {
      m.clock.advance(1000);
      const promises = Array.from({ length: 12 }, (_, k) => ({ name: `check-something-long-${k}.json`, failed: k < 11, message: `${'x'.repeat(4990)} failed ${k}` }));
      await m.as(tokens[5] as string).report(p, report(`long-${r}`, m.clock.now(), promises, { ok: false, error: 'e'.repeat(2000) }));
    }
    await m.store.flagReprocess({ computerId: c, partitionId: p }, {
      requestedAt: m.clock.now().toISOString(),
      reason: 'r'.repeat(200),
      bangId: 'b'.repeat(36),
    });
    const item = await raw(c, p);
    const size = itemBytes(item);
    console.log(`partition item, red with long texts, a crime, a pending flag: ${size} bytes`);
    expect((await m.api.getPartition(p)).crimes.length).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(1280);
  });

  it('ids of 128 characters and every text at its maximum: at most 2.5 KB (3 write units)', async () => {
    const long = (x: string) => `${x}${'z'.repeat(128 - x.length)}`;
    await addSr(m, long('sr'));
    const token = await addComputer(m, long('c'));
    await m.api.putPartition(long('p'), { computerId: long('c'), instanceTreeId: long('t'), softwareReleaseId: long('sr') });
    for (let r = 0; r < 3; r++) {
      m.clock.advance(1000);
      const promises = Array.from({ length: 20 }, (_, k) => ({ name: `${'n'.repeat(240)}-${k}.json`, failed: true, message: 'm'.repeat(5000) }));
      await m.as(token).report(long('p'), report(long(`r${r}`), m.clock.now(), promises, { ok: false, error: 'e'.repeat(2000) }));
    }
    await m.store.flagReprocess({ computerId: long('c'), partitionId: long('p') }, { requestedAt: m.clock.now().toISOString(), reason: 'r'.repeat(200), bangId: long('b') });
    const size = itemBytes(await raw(long('c'), long('p')));
    console.log(`partition item, worst case: ${size} bytes`);
    expect(size).toBeLessThanOrEqual(2560);
  });
});
