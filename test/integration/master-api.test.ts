// The app + DynamoDB store end to end through app.request() (DynamoDB Local / fauxqs).
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fanOutBang } from '../../functions/services/fanout.ts';
import { z } from 'zod';
import { nextUtcDay } from '../../functions/domain/quota.ts';
import { parseBangMessage } from '../../functions/services/bang-message.ts';
import { keys, TTL_ATTRIBUTE } from '../../functions/store/table.ts';
import {
  BangList,
  Computer,
  ComputerList,
  HeartbeatResponse,
  InstanceTree,
  Partition,
  PartitionList,
  PartitionPromises,
  SoftwareReleaseList,
} from '../../protocol/index.ts';
import { createTestMaster, errorBody, type TestMaster } from '../helpers/master.ts';
import { addComputer, addPartition, addSr, report } from '../helpers/master-fleet.ts';

/** What the tests read of the OpenAPI document. */
const OpenApiPaths = z.object({
  paths: z.record(
    z.string(),
    z.object({ post: z.object({ requestBody: z.object({ content: z.record(z.string(), z.object({ schema: z.unknown() })) }).optional() }).optional() }).passthrough(),
  ),
});

const WRITES = ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'SendMessageCommand'];
const writesIn = (counts: Record<string, number>) => WRITES.filter((w) => (counts[w] ?? 0) > 0);

describe('master API', () => {
  let m: TestMaster;
  let t1: string;
  let t2: string;
  beforeAll(async () => {
    m = await createTestMaster();
    await addSr(m, 'sr1', { periodicitySeconds: 3600 });
    t1 = await addComputer(m, 'c1');
    t2 = await addComputer(m, 'c2');
    await addPartition(m, 'p1', 'c1', 'tree1', 'sr1');
    await addPartition(m, 'p2', 'c1', 'tree1', 'sr1');
    await addPartition(m, 'p3', 'c2', 'tree1', 'sr1');
    await addPartition(m, 'q1', 'c2', 'tree2', 'sr1');
  });
  afterAll(() => m?.dispose());

  it('registers: computer token once (201), later PUT updates (200), SR/partition views', async () => {
    const again = await m.call('PUT', '/v1/computers/c1', { instantiationFrequencySeconds: 7200 });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ computerId: 'c1', instantiationFrequencySeconds: 7200 });
    expect(again.body).not.toHaveProperty('token');
    expect((await m.api.listComputers()).computers.map((c) => c.computerId).sort()).toEqual(['c1', 'c2']);
    const c = await m.api.getComputer('c2');
    expect(c).toMatchObject({ colour: 'red', colourReason: 'never contacted the master' });
    const p = await m.api.getPartition('p1');
    expect(p).toMatchObject({ partitionId: 'p1', computerId: 'c1', instanceTreeId: 'tree1', softwareReleaseId: 'sr1', periodicitySeconds: 3600, colour: 'red', colourReason: 'no report yet' });
    const tree = await m.api.listPartitions({ instanceTreeId: 'tree1' });
    expect(tree.partitions.map((x) => x.partitionId)).toEqual(['p1', 'p2', 'p3']);
    expect((await m.call('GET', '/v1/partitions/nope')).status).toBe(404);
    expect((await m.call('GET', '/v1/instance-trees/nope')).status).toBe(404);
    const missing = await m.call('PUT', '/v1/partitions/px', { computerId: 'ghost', instanceTreeId: 't', softwareReleaseId: 'sr1' });
    expect(missing.status).toBe(404);
    expect(errorBody(missing).message).toContain('computer ghost');
  });

  it('heartbeat: green computer, partitions of this computer only', async () => {
    const raw = await m.call('POST', '/v1/computers/c1/heartbeat', { agentVersion: 'test-1' }, t1);
    expect(raw.status).toBe(200);
    const hb = HeartbeatResponse.parse(raw.body);
    expect(hb.serverTime).toBe(m.clock.now().toISOString());
    expect(hb.partitions.map((p) => p.partitionId).sort()).toEqual(['p1', 'p2']);
    expect(hb.partitions[0]).toMatchObject({ instanceTreeId: 'tree1', softwareReleaseId: 'sr1', periodicitySeconds: 3600 });
    expect(hb.reprocess).toEqual([]);
    const c = await m.api.getComputer('c1');
    expect(c).toMatchObject({ colour: 'green', agentVersion: 'test-1', lastContactAt: m.clock.now().toISOString() });
  });

  it('report: accepted, idempotent re-post, an older report never overwrites a newer one', async () => {
    const now = m.clock.now().getTime();
    const r2 = report('r2', new Date(now - 1000), [{ name: 'a.json' }, { name: 'b.json' }]);
    const r1 = report('r1', new Date(now - 60_000), [{ name: 'a.json', failed: true, message: 'old failure' }]);
    expect((await m.call('POST', '/v1/partitions/p1/reports', r2, t1)).body).toEqual({ reportId: 'r2', status: 'accepted' });
    m.aws.counter.reset();
    const dup = await m.call('POST', '/v1/partitions/p1/reports', r2, t1);
    expect(dup.status).toBe(202);
    expect(dup.body).toMatchObject({ status: 'duplicate' });
    expect(writesIn(m.aws.counter.byCommand())).toEqual([]);
    const old = await m.call('POST', '/v1/partitions/p1/reports', r1, t1);
    expect(old.status).toBe(202);
    expect(old.body).toMatchObject({ status: 'stale' });
    const p = await m.api.getPartition('p1');
    expect(p.lastReport).toMatchObject({ reportId: 'r2', ok: true, promiseCount: 2 });
    expect(p).toMatchObject({ colour: 'green', colourReason: 'all promises kept' });
    const promises = await m.api.partitionPromises('p1');
    const a = promises.promises.find((x) => x.name === 'a.json');
    expect(a?.latest).toMatchObject({ reportId: 'r2', failed: false });
    expect(a?.history.map((h) => h.reportId)).toEqual(['r2', 'r1']);
    expect(promises.reports.map((r) => r.reportId)).toEqual(['r2', 'r1']);
  });

  it('report with a failed promise turns the partition red with the reason; messages are capped', async () => {
    const long = `${'x'.repeat(6000)}END`;
    const r = report('r3', m.clock.now(), [{ name: 'a.json' }, { name: 'check-url.json', failed: true, message: long }]);
    expect((await m.call('POST', '/v1/partitions/p2/reports', r, t1)).status).toBe(202);
    const p = await m.api.getPartition('p2');
    expect(p.colour).toBe('red');
    expect(p.colourReason).toMatch(/^promise check-url\.json failed: x+…$|^promise check-url\.json failed: .*END$/);
    const pr = await m.api.partitionPromises('p2');
    const msg = pr.promises.find((x) => x.name === 'check-url.json')?.latest.message ?? '';
    expect(msg.length).toBe(5000);
    expect(msg.endsWith('END')).toBe(true);
  });

  it('bang: 202, queued, fanned out to the whole tree, seen in heartbeats, cleared by reprocessedUpTo', async () => {
    const r = await m.call('POST', '/v1/partitions/p1/bang', { bangId: 'bang-1', message: 'service died', source: 'watchdog' }, t1);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ bangId: 'bang-1', fannedOutTo: 3 });
    // Same bangId again: accepted, no second bang.
    expect((await m.call('POST', '/v1/partitions/p1/bang', { bangId: 'bang-1', message: 'service died', source: 'watchdog' }, t1)).status).toBe(202);
    const got = await m.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: m.aws.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(got.Messages).toHaveLength(1);
    const msg = parseBangMessage(got.Messages?.[0]?.Body ?? '');
    expect(msg).toMatchObject({ bangId: 'bang-1', partitionId: 'p1', instanceTreeId: 'tree1' });
    expect(await fanOutBang({ store: m.store, now: m.clock.now }, msg)).toEqual({ total: 3, flagged: 3, skipped: false });
    expect((await fanOutBang({ store: m.store, now: m.clock.now }, msg)).skipped).toBe(true);

    const hb1 = await m.as(t1).heartbeat('c1', { agentVersion: '1' });
    expect(hb1.reprocess.map((x) => x.partitionId).sort()).toEqual(['p1', 'p2']);
    expect(hb1.reprocess[0]?.requestedAt).toBe(msg.requestedAt);
    expect(hb1.reprocess[0]?.reason).toContain('service died');
    const hb2 = await m.as(t2).heartbeat('c2', { agentVersion: '1' });
    expect(hb2.reprocess.map((x) => x.partitionId)).toEqual(['p3']);
    const tree = await m.api.getInstanceTree('tree1');
    expect(tree.colour).toBe('red');
    const p1 = tree.partitions.find((p) => p.partitionId === 'p1');
    expect(p1?.colourReason).toBe(`bang at ${msg.requestedAt} after the last report`);
    const bangs = await m.api.listBangs({ partitionId: 'p1' });
    expect(bangs.bangs).toHaveLength(1);
    expect(bangs.bangs[0]).toMatchObject({ bangId: 'bang-1', accepted: true, fanOut: 'done', fannedOutTo: 3, source: 'watchdog' });

    m.clock.advance(5000);
    const rep = report('r-after-bang', m.clock.now(), [{ name: 'a.json' }], { reprocessedUpTo: hb1.reprocess[0]?.requestedAt });
    expect((await m.as(t1).report('p1', rep)).status).toBe('accepted');
    const hb3 = await m.as(t1).heartbeat('c1', { agentVersion: '1' });
    expect(hb3.reprocess.map((x) => x.partitionId)).toEqual(['p2']);
    expect((await m.api.getPartition('p1')).colour).toBe('green');
    // A redelivered fan-out message does not flag the handled partition again.
    await m.store.completeBang('p1', 'bang-1', 3, m.clock.now().toISOString());
    expect((await fanOutBang({ store: m.store, now: m.clock.now }, { ...msg })).skipped).toBe(true);
  });

  it('admin manual bang', async () => {
    const r = await m.call('POST', '/v1/partitions/q1/bang', { bangId: 'manual-1', message: 'by hand', source: 'manual' });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ fannedOutTo: 1 });
  });

  it('auth matrix: 401/403 and nothing written', async () => {
    const before = m.aws.counter.byCommand();
    m.aws.counter.reset();
    const wrongSecret = `${t1.slice(0, t1.lastIndexOf('.'))}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
    const hb = { agentVersion: 'x' };
    const rep = report('evil', m.clock.now());
    const bang = { bangId: 'evil', message: 'x', source: 'manual' };
    const cases: [string, string, unknown, string | null, number][] = [
      ['POST', '/v1/computers/c1/heartbeat', hb, null, 401],
      ['POST', '/v1/computers/c1/heartbeat', hb, 'garbage', 401],
      ['POST', '/v1/computers/c1/heartbeat', hb, wrongSecret, 401],
      ['POST', '/v1/computers/c1/heartbeat', hb, t2, 403],
      ['POST', '/v1/computers/c1/heartbeat', hb, m.adminToken, 403],
      ['POST', '/v1/computers/ghost/heartbeat', hb, t1, 403],
      ['POST', '/v1/partitions/p1/reports', rep, null, 401],
      ['POST', '/v1/partitions/p1/reports', rep, wrongSecret, 401],
      ['POST', '/v1/partitions/p1/reports', rep, t2, 403],
      ['POST', '/v1/partitions/p3/reports', rep, t1, 403],
      ['POST', '/v1/partitions/ghost/reports', rep, t1, 403],
      ['POST', '/v1/partitions/p1/reports', rep, m.adminToken, 403],
      ['POST', '/v1/partitions/p3/bang', bang, t1, 403],
      ['POST', '/v1/partitions/p3/bang', bang, null, 401],
      ['POST', '/v1/partitions/p3/bang', bang, wrongSecret, 401],
      ['PUT', '/v1/software-releases/evil', { url: 'x' }, t1, 403],
      ['PUT', '/v1/software-releases/evil', { url: 'x' }, null, 401],
      ['PUT', '/v1/software-releases/evil', { url: 'x' }, 'wrong-admin', 401],
      ['PUT', '/v1/computers/evil', {}, t1, 403],
      ['PUT', '/v1/computers/c1', { instantiationFrequencySeconds: 5 }, t1, 403],
      ['POST', '/v1/computers/c1/token', undefined, t1, 403],
      ['PUT', '/v1/partitions/p3', { computerId: 'c1', instanceTreeId: 't', softwareReleaseId: 'sr1' }, t1, 403],
      ['GET', '/v1/computers', undefined, t1, 403],
      ['GET', '/v1/partitions/p1', undefined, null, 401],
      ['GET', '/v1/bangs', undefined, wrongSecret, 401],
    ];
    for (const [method, path, body, token, status] of cases) {
      const r = await m.call(method, path, body, token);
      expect(`${method} ${path} ${token === null ? 'none' : token.slice(0, 8)} → ${r.status}`).toBe(`${method} ${path} ${token === null ? 'none' : token.slice(0, 8)} → ${status}`);
      expect(r.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    }
    expect(writesIn(m.aws.counter.byCommand())).toEqual([]);
    void before;
  });

  it('a rotated token replaces the old one', async () => {
    const t3 = await addComputer(m, 'c3');
    const rot = await m.api.rotateComputerToken('c3');
    expect(rot.token).not.toBe(t3);
    expect((await m.call('POST', '/v1/computers/c3/heartbeat', { agentVersion: '1' }, t3)).status).toBe(401);
    expect((await m.call('POST', '/v1/computers/c3/heartbeat', { agentVersion: '1' }, rot.token)).status).toBe(200);
    expect((await m.call('POST', '/v1/computers/ghost/token')).status).toBe(404);
  });

  it('bad input: 400 naming the field, malformed JSON, any content type, 413', async () => {
    const r1 = await m.call('PUT', '/v1/software-releases/x', { url: 42 });
    expect(r1.status).toBe(400);
    expect(errorBody(r1).error).toBe('bad_request');
    expect(errorBody(r1).message).toContain('body.url');
    const r2 = await m.call('POST', '/v1/partitions/p1/reports', { ...report('bad', m.clock.now()), promises: [{ name: 'a', kind: 'test' }] }, t1);
    expect(r2.status).toBe(400);
    expect(errorBody(r2).message).toContain('body.promises.0.');
    const r3 = await m.call('POST', '/v1/partitions/p1/bang', { bangId: 'b', message: 'm', source: 'cron' }, t1);
    expect(r3.status).toBe(400);
    expect(errorBody(r3).message).toContain('body.source');
    const r4 = await m.call('POST', '/v1/computers/c1/heartbeat', '{"agentVersion": ', t1);
    expect(r4.status).toBe(400);
    expect(errorBody(r4).message).toMatch(/JSON/i);
    const r5 = await m.call('PUT', '/v1/partitions/bad%23id', { computerId: 'c1', instanceTreeId: 't', softwareReleaseId: 'sr1' });
    expect(r5.status).toBe(400);
    expect(errorBody(r5).message).toContain('partitionId');
    const r6 = await m.call('GET', '/v1/bangs?limit=abc');
    expect(r6.status).toBe(400);
    expect(errorBody(r6).message).toContain('query.limit');
    const r7 = await m.app.request('/v1/computers/c1/heartbeat', { method: 'POST', headers: { authorization: `Bearer ${t1}`, 'content-type': 'text/plain' }, body: 'hi' });
    expect(r7.status).toBe(400);
    expect(((await r7.json()) as { message: string }).message).toMatch(/JSON/i);
    const r7b = await m.app.request('/v1/computers/c1/heartbeat', { method: 'POST', headers: { authorization: `Bearer ${t1}`, 'content-type': 'application/x-www-form-urlencoded' }, body: '{"agentVersion":"1"}' });
    expect(r7b.status).toBe(200);
    const r7c = await m.app.request('/v1/computers/c1/heartbeat', { method: 'POST', headers: { authorization: `Bearer ${t1}` }, body: '{"agentVersion":"1"}' });
    expect(r7c.status).toBe(200);
    const big = { agentVersion: 'x'.repeat(300 * 1024) };
    const r8 = await m.call('POST', '/v1/computers/c1/heartbeat', big, t1);
    expect(r8.status).toBe(413);
    expect(errorBody(r8).error).toBe('payload_too_large');
    const r9 = await m.call('PUT', '/v1/software-releases/big', { url: 'u'.repeat(257 * 1024) });
    expect(r9.status).toBe(413);
    expect((await m.call('GET', '/v1/software-releases/big')).status).toBe(404);
  });

  it('never a 5xx for arbitrary bodies', async () => {
    const routes: [string, string, string | null][] = [
      ['POST', '/v1/computers/c1/heartbeat', t1],
      ['POST', '/v1/partitions/p2/reports', t1],
      ['POST', '/v1/partitions/p2/bang', t1],
      ['PUT', '/v1/software-releases/fuzz', m.adminToken],
      ['PUT', '/v1/computers/fuzz', m.adminToken],
      ['PUT', '/v1/partitions/fuzz', m.adminToken],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), async ([method, path, token], body) => {
        const r = await m.call(method, path, body, token);
        expect(r.status, `${method} ${path} ${body.slice(0, 100)} → ${JSON.stringify(r.body)}`).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
  });

  it('OpenAPI document lists every route of SPEC §3', async () => {
    const doc = OpenApiPaths.parse((await m.call('GET', '/openapi.json', undefined, null)).body);
    for (const p of [
      '/v1/software-releases/{srId}',
      '/v1/computers/{computerId}',
      '/v1/computers/{computerId}/token',
      '/v1/computers/{computerId}/heartbeat',
      '/v1/partitions/{partitionId}',
      '/v1/partitions',
      '/v1/computers',
      '/v1/instance-trees/{treeId}',
      '/v1/partitions/{partitionId}/promises',
      '/v1/partitions/{partitionId}/reports',
      '/v1/partitions/{partitionId}/bang',
      '/v1/bangs',
      '/healthz',
    ]) {
      expect(doc.paths[p], p).toBeTruthy();
    }
    const reportSchema = doc.paths['/v1/partitions/{partitionId}/reports']?.post?.requestBody?.content['application/json']?.schema;
    expect(JSON.stringify(reportSchema)).toContain('reprocessedUpTo');
  });

  it('crimes are flagged per partition', async () => {
    const base = m.clock.now().getTime();
    for (let i = 0; i < 3; i++) {
      const r = report(`crime-${i}`, new Date(base + i * 3_600_000), [{ name: 'never.json', failed: true, periodicityMinutes: 1 }], { durationMs: 61_000 });
      expect((await m.as(t2).report('q1', r)).status).toBe('accepted');
    }
    const p = await m.api.getPartition('q1');
    expect(p.crimes.map((c) => c.code).sort()).toEqual(['all-promises-every-minute', 'promise-never-passes', 'slow-instantiation']);
    // The fourth crime: instantiations back to back (each starts 1 s after the previous ended).
    await addPartition(m, 'busy', 'c2', 'tree-busy', 'sr1');
    let at = base;
    for (let i = 0; i < 4; i++) {
      const r = report(`busy-${i}`, new Date(at), [{ name: 'ok.json', periodicityMinutes: 10 }], { durationMs: 5000 });
      expect((await m.as(t2).report('busy', r)).status).toBe('accepted');
      if (i === 2) expect((await m.api.getPartition('busy')).crimes).toEqual([]);
      at += 6000;
    }
    const busy = await m.api.getPartition('busy');
    expect(busy.crimes.map((c) => c.code)).toEqual(['instantiation-never-sleeps']);
    expect(busy.colour).toBe('green');
  });

  it('reprocessedUpTo is capped at the master clock: a far-future value does not swallow later flags', async () => {
    await addPartition(m, 'clamp', 'c1', 'tree-clamp', 'sr1');
    const r = report('clamp-1', m.clock.now(), [{ name: 'a.json' }], { reprocessedUpTo: '2100-01-01T00:00:00.000Z' });
    expect((await m.as(t1).report('clamp', r)).status).toBe('accepted');
    m.clock.advance(1000);
    const requestedAt = m.clock.now().toISOString();
    expect(await m.store.flagReprocess({ computerId: 'c1', partitionId: 'clamp' }, { requestedAt, reason: 'later bang', bangId: 'later' })).toBe(true);
    const hb = await m.as(t1).heartbeat('c1', { agentVersion: '1' });
    expect(hb.reprocess.find((x) => x.partitionId === 'clamp')).toEqual({ partitionId: 'clamp', requestedAt, reason: 'later bang' });
  });

  it('responses match the schemas the OpenAPI document publishes', async () => {
    const cases: [string, z.ZodType][] = [
      ['/v1/computers', ComputerList],
      ['/v1/computers/c1', Computer],
      ['/v1/partitions', PartitionList],
      ['/v1/partitions/p1', Partition],
      ['/v1/instance-trees/tree1', InstanceTree],
      ['/v1/partitions/p1/promises', PartitionPromises],
      ['/v1/bangs', BangList],
      ['/v1/software-releases', SoftwareReleaseList],
    ];
    for (const [path, schema] of cases) {
      const got = await m.call('GET', path);
      expect(got.status, path).toBe(200);
      const r = schema.safeParse(got.body);
      expect(r.success, `${path}: ${r.error?.message}`).toBe(true);
    }
    const hb = HeartbeatResponse.safeParse((await m.call('POST', '/v1/computers/c1/heartbeat', { agentVersion: '1' }, t1)).body);
    expect(hb.success, hb.error?.message).toBe(true);
  });

  it('no Scan on any request path of this file', () => {
    expect(m.aws.counter.seen()).toContain('QueryCommand');
    expect(m.aws.counter.seen()).not.toContain('ScanCommand');
  });
});

describe('bang while the queue is down', () => {
  let m: TestMaster;
  afterAll(() => m?.dispose());
  it('is fanned out inline: nothing lost, the error logged', async () => {
    const logged: string[] = [];
    m = await createTestMaster({
      dashboard: false,
      queue: {
        send: async () => {
          throw new Error('SQS unreachable');
        },
      },
      logError: (message) => logged.push(message),
    });
    await addSr(m, 'srd');
    const token = await addComputer(m, 'cd');
    await addPartition(m, 'd1', 'cd', 'td', 'srd');
    await addPartition(m, 'd2', 'cd', 'td', 'srd');
    const r = await m.call('POST', '/v1/partitions/d1/bang', { bangId: 'down-1', message: 'dead', source: 'watchdog' }, token);
    expect(r).toMatchObject({ status: 202, body: { bangId: 'down-1', fannedOutTo: 2 } });
    expect(logged.some((l) => l.includes('queue send failed'))).toBe(true);
    const hb = await m.as(token).heartbeat('cd', { agentVersion: '1' });
    expect(hb.reprocess.map((x) => x.partitionId).sort()).toEqual(['d1', 'd2']);
    expect((await m.api.listBangs({ partitionId: 'd1' })).bangs[0]).toMatchObject({ bangId: 'down-1', fanOut: 'done', fannedOutTo: 2 });
  });
});

describe('promise history TTL', () => {
  let m: TestMaster;
  afterAll(() => m?.dispose());
  it('history and quota items carry the TTL attribute; expired ones are hidden at once and deleted by the local expiry', async () => {
    m = await createTestMaster({ dashboard: false });
    await addSr(m, 'srh');
    const token = await addComputer(m, 'ch');
    await addPartition(m, 'ph', 'ch', 'th', 'srh');
    const t0 = m.clock.now();
    await m.as(token).report('ph', report('old', t0, [{ name: 'a.json' }, { name: 'b.json', failed: true }]));
    await m.as(token).bang('ph', { bangId: 'hb', message: 'x', source: 'manual' });
    const raw = async (pk: string) =>
      (await m.aws.dynamo.send(new QueryCommand({ TableName: m.aws.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } } }))).Items ?? [];
    const history = await raw(keys.historyPk('ph'));
    expect(history).toHaveLength(1); // one item: the report with its 2 promise results
    const ttl = Math.floor(t0.getTime() / 1000) + 7 * 86400;
    for (const i of history) expect(i[TTL_ATTRIBUTE]).toEqual({ N: String(ttl) });
    const quota = await raw(keys.quota('ph', '').pk);
    expect(quota.map((i) => i[TTL_ATTRIBUTE])).toEqual([{ N: String(Math.floor(nextUtcDay(t0).getTime() / 1000) + 86400) }]);

    // One second after the TTL: hidden from the API even before anything deletes it.
    m.clock.set(new Date((ttl + 1) * 1000));
    await m.as(token).report('ph', report('new', m.clock.now(), [{ name: 'a.json' }]));
    const pr = await m.api.partitionPromises('ph');
    expect(pr.promises.map((p) => [p.name, p.history.map((h) => h.reportId)])).toEqual([['a.json', ['new']]]);
    expect(pr.reports.map((r) => r.reportId)).toEqual(['new']);

    // The local TTL emulation deletes exactly the expired items.
    expect(await m.store.expireItems(ttl + 1)).toBe(2);
    expect((await raw(keys.historyPk('ph'))).map((i) => i.sk?.S?.split('#')[1])).toEqual(['new']);
    expect(await raw(keys.quota('ph', '').pk)).toEqual([]);
    expect(await m.api.getPartition('ph')).toMatchObject({ partitionId: 'ph', lastReport: { reportId: 'new' } });
    expect((await m.api.listBangs({ partitionId: 'ph' })).bangs).toHaveLength(1);
    expect(await m.store.expireItems(ttl + 1)).toBe(0);
  });
});

describe('bang quota', () => {
  let m: TestMaster;
  afterAll(() => m?.dispose());
  it('50 concurrent bangs with quota 10: exactly 10 accepted, 40 × 429 with Retry-After, nothing more fanned out', async () => {
    m = await createTestMaster();
    m.clock.set('2025-06-01T23:59:00.000Z');
    await addSr(m, 'srq', { bangQuotaPerDay: 10 });
    const token = await addComputer(m, 'cq');
    await addPartition(m, 'pq', 'cq', 'tq', 'srq');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => m.call('POST', '/v1/partitions/pq/bang', { bangId: `b-${i}`, message: `bang ${i}`, source: 'promise' }, token)),
    );
    const accepted = results.filter((r) => r.status === 202);
    const rejected = results.filter((r) => r.status === 429);
    expect(accepted).toHaveLength(10);
    expect(rejected).toHaveLength(40);
    expect(rejected[0]?.headers.get('retry-after')).toBe('60');
    expect(rejected[0] && errorBody(rejected[0]).error).toBe('too_many_bangs');
    const attrs = await m.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: m.aws.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(Number(attrs.Attributes?.ApproximateNumberOfMessages)).toBe(10);
    const log = await m.api.listBangs({ partitionId: 'pq', limit: 100 });
    expect(log.bangs.filter((b) => b.accepted)).toHaveLength(10);
    expect(log.bangs.filter((b) => !b.accepted)).toHaveLength(40);
    // the partition shows the counter the quota is enforced with
    expect(await m.api.getPartition('pq')).toMatchObject({ bangsToday: 10, bangQuotaPerDay: 10 });
    // A new UTC day gives a new quota.
    m.clock.set('2025-06-02T00:00:01.000Z');
    expect((await m.call('POST', '/v1/partitions/pq/bang', { bangId: 'next-day', message: 'x', source: 'promise' }, token)).status).toBe(202);
  });
});
