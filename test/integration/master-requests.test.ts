// DynamoDB requests per call, counted by an AWS SDK middleware (SPEC §5): the capacity units
// they cost are asserted in master-capacity.test.ts.
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

it('heartbeat: one UpdateItem, whatever the number of partitions; the first of a process also reads the token hash and the assignments', async () => {
  m.aws.counter.reset();
  const first = await m.as(token).heartbeat('c', { agentVersion: '1' });
  expect(first.partitions).toHaveLength(20);
  // the computer's token hash (once per process), the contact, the colour change (never
  // contacted → green), the assignments (also listed in the change's event); the event,
  // recorded, not sent (a first contact): silences and channels (Query), the event (PutItem),
  // its routed mark and its pending mark cleared (UpdateItem)
  expect(m.aws.counter.byCommand()).toEqual({ GetItemCommand: 1, UpdateItemCommand: 2 + 2, QueryCommand: 1 + 2, PutItemCommand: 1 });
  for (let i = 0; i < 3; i++) {
    m.clock.advance(60_000);
    m.aws.counter.reset();
    const hb = await m.as(token).heartbeat('c', { agentVersion: '1' });
    expect(hb.partitions).toHaveLength(20);
    expect(m.aws.counter.byCommand()).toEqual({ UpdateItemCommand: 1 });
  }
  // a new partition: its assignment version changed, one Query
  await addPartition(m, 'p-new', 'c', 'tree-0', 'sr');
  m.aws.counter.reset();
  expect((await m.as(token).heartbeat('c', { agentVersion: '1' })).partitions).toHaveLength(21);
  expect(m.aws.counter.byCommand()).toEqual({ UpdateItemCommand: 1, QueryCommand: 1 });
});

it('report: one read, one history item, one partition write, whatever the number of promises (and its event, when it records a change)', async () => {
  const cases = [0, 1, 24, 25, 60];
  for (const [i, n] of cases.entries()) {
    const promises = Array.from({ length: n }, (_, k) => ({ name: `promise-${k}.json`, failed: k === 3 }));
    m.clock.advance(1000);
    m.aws.counter.reset();
    const r = await m.as(token).report(`p${i}`, report(`r-${n}`, m.clock.now(), promises, { reprocessedUpTo: m.clock.now().toISOString() }));
    expect(r.status).toBe('accepted');
    // the first report of each partition records an event (OK: red → green, recorded, not
    // sent; failing: receivers, who take a new partition as green, are told it is red): +
    // the computer read, silences and channels, the event, its routed mark and its pending
    // mark cleared. No channel here: no queue item.
    expect(m.aws.counter.byCommand()).toEqual({ GetItemCommand: 1 + 1, PutItemCommand: 1 + 1, UpdateItemCommand: 1 + 2, QueryCommand: 2 });
  }
  // The next report of a partition that changes nothing: the report alone.
  m.clock.advance(1000);
  m.aws.counter.reset();
  expect((await m.as(token).report('p0', report('r-again', m.clock.now(), []))).status).toBe('accepted');
  expect(m.aws.counter.byCommand()).toEqual({ GetItemCommand: 1, PutItemCommand: 1, UpdateItemCommand: 1 });
  // A stale report acknowledging a reprocess: the same, plus that acknowledgement.
  m.aws.counter.reset();
  const stale = await m.as(token).report('p0', report('old', new Date(0), [], { reprocessedUpTo: m.clock.now().toISOString() }));
  expect(stale.status).toBe('stale');
  expect(m.aws.counter.total()).toBeLessThanOrEqual(4);
});
