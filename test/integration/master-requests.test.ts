// DynamoDB requests per call, counted by an AWS SDK middleware (SPEC §5).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestMaster, type TestMaster } from '../helpers/master.ts';
import { addComputer, addPartition, addSr, report } from '../helpers/master-fleet.ts';

let m: TestMaster;
let token: string;
beforeAll(async () => {
  m = await createTestMaster({ dashboard: false });
  await addSr(m, 'sr');
  token = await addComputer(m, 'c');
  for (let i = 0; i < 20; i++) await addPartition(m, `p${i}`, 'c', `tree-${i % 3}`, 'sr');
});
afterAll(() => m?.dispose());

it('heartbeat: ≤ 2 DynamoDB requests (one Query, one UpdateItem), whatever the number of partitions', async () => {
  m.aws.counter.reset();
  const hb = await m.as(token).heartbeat('c', { agentVersion: '1' });
  expect(hb.partitions).toHaveLength(20);
  console.log('heartbeat requests', m.aws.counter.byCommand());
  expect(m.aws.counter.total()).toBeLessThanOrEqual(2);
  expect(m.aws.counter.byCommand()).toEqual({ QueryCommand: 1, UpdateItemCommand: 1 });
});

it('report: ≤ 3 requests + 1 per history batch of 25', async () => {
  const cases = [0, 1, 24, 25, 60];
  for (const [i, n] of cases.entries()) {
    const promises = Array.from({ length: n }, (_, k) => ({ name: `promise-${k}.json`, failed: k === 3 }));
    m.clock.advance(1000);
    m.aws.counter.reset();
    const r = await m.as(token).report(`p${i}`, report(`r-${n}`, m.clock.now(), promises, { reprocessedUpTo: m.clock.now().toISOString() }));
    expect(r.status).toBe('accepted');
    const batches = Math.ceil((n + 1) / 25);
    console.log(`report with ${n} promises: ${m.aws.counter.total()} requests`, m.aws.counter.byCommand());
    expect(m.aws.counter.total()).toBeLessThanOrEqual(3 + batches);
    expect(m.aws.counter.byCommand()).toEqual({ BatchGetItemCommand: 1, UpdateItemCommand: 1, BatchWriteItemCommand: batches });
  }
  // A stale report acknowledging a reprocess: still ≤ 3 + batches.
  m.aws.counter.reset();
  const stale = await m.as(token).report('p0', report('old', new Date(0), [], { reprocessedUpTo: m.clock.now().toISOString() }));
  expect(stale.status).toBe('stale');
  expect(m.aws.counter.total()).toBeLessThanOrEqual(4);
});
