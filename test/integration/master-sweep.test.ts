// The minute sweep: transitions recorded with an injected clock; reads grow with colour
// changes, not with the fleet.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runSweep } from '../../functions/sweep.ts';
import { createTestMaster, type TestMaster } from '../helpers/master.ts';
import { addComputer, addPartition, addSr, ok, report } from '../helpers/master-fleet.ts';

let m: TestMaster;
const min = 60_000;
beforeAll(async () => {
  m = await createTestMaster({ dashboard: false });
});
afterAll(() => m?.dispose());

it('records green → orange → red for computers and report expiry for partitions', async () => {
  await addSr(m, 'sr', { periodicitySeconds: 3600 });
  const t = await addComputer(m, 'c');
  await addPartition(m, 'p', 'c', 'tree', 'sr');
  const start = m.clock.now();
  await ok(m, 'POST', '/v1/computers/c/heartbeat', { agentVersion: '1' }, t);
  await ok(m, 'POST', '/v1/partitions/p/reports', report('r1', start), t);
  let c = await ok(m, 'GET', '/v1/computers/c');
  expect(c).toMatchObject({ colour: 'green', colourSince: start.toISOString() });
  expect((await ok(m, 'GET', '/v1/partitions/p')).colour).toBe('green');

  m.clock.advance(4 * min);
  expect((await runSweep(m, m.clock.now())).changed).toBe(0);

  m.clock.advance(2 * min); // 6 min without contact
  const s1 = await runSweep(m, m.clock.now());
  expect(s1.transitions).toEqual([{ type: 'computer', id: 'c', from: 'green', to: 'orange', reason: 'no contact for 6 min' }]);
  c = await ok(m, 'GET', '/v1/computers/c');
  expect(c).toMatchObject({ colour: 'orange', colourSince: new Date(start.getTime() + 5 * min).toISOString() });

  m.clock.advance(55 * min); // 61 min: computer red, report (max age 1 h) expired
  const s2 = await runSweep(m, m.clock.now());
  expect(s2.transitions.map((x) => `${x.type}:${x.from}->${x.to}`).sort()).toEqual(['computer:orange->red', 'partition:green->red']);
  const p = await ok(m, 'GET', '/v1/partitions/p');
  expect(p).toMatchObject({ colour: 'red', colourReason: 'last report 61 min ago', colourSince: new Date(start.getTime() + 60 * min).toISOString() });

  // Nothing else is due: the sweep reads nothing more.
  m.clock.advance(10 * min);
  expect(await runSweep(m, m.clock.now())).toEqual({ examined: 0, changed: 0, transitions: [] });

  // Contact again: green at once, recorded by the heartbeat.
  await ok(m, 'POST', '/v1/computers/c/heartbeat', { agentVersion: '1' }, t);
  expect(await ok(m, 'GET', '/v1/computers/c')).toMatchObject({ colour: 'green', colourSince: m.clock.now().toISOString() });
});

it('a bang is recorded as a transition of the tree by the sweep', async () => {
  await addSr(m, 'sr2');
  const t = await addComputer(m, 'c2');
  await addPartition(m, 'x1', 'c2', 'tree2', 'sr2');
  await addPartition(m, 'x2', 'c2', 'tree2', 'sr2');
  await ok(m, 'POST', '/v1/partitions/x1/reports', report('a', m.clock.now()), t);
  await ok(m, 'POST', '/v1/partitions/x2/reports', report('b', m.clock.now()), t);
  await runSweep(m, m.clock.now());
  m.clock.advance(1000);
  await ok(m, 'POST', '/v1/partitions/x1/bang', { bangId: 'b1', message: 'down', source: 'watchdog' }, t);
  await m.store.flagReprocess({ computerId: 'c2', partitionId: 'x2' }, { requestedAt: m.clock.now().toISOString(), reason: 'bang', bangId: 'b1' });
  const s = await runSweep(m, m.clock.now());
  expect(s.transitions.map((x) => `${x.id}:${x.to}`).sort()).toEqual(['x1:red', 'x2:red']);
});

it('sweep reads grow with colour changes, not with fleet size', async () => {
  const first = m;
  m = await createTestMaster({ dashboard: false });
  await first.dispose();
  const tokens: string[] = [];
  for (let i = 0; i < 40; i++) tokens.push(await addComputer(m, `fleet-${i}`));
  for (let i = 0; i < 40; i++) await ok(m, 'POST', `/v1/computers/fleet-${i}/heartbeat`, { agentVersion: '1' }, tokens[i]);
  m.aws.counter.reset();
  m.clock.advance(30_000);
  const quiet = await runSweep(m, m.clock.now());
  expect(quiet.examined).toBe(0);
  expect(m.aws.counter.byCommand()).toEqual({ QueryCommand: 1 });
  // Two computers go quiet; the others keep calling.
  m.clock.advance(5 * min);
  for (let i = 2; i < 40; i++) await ok(m, 'POST', `/v1/computers/fleet-${i}/heartbeat`, { agentVersion: '1' }, tokens[i]);
  m.aws.counter.reset();
  const s = await runSweep(m, m.clock.now());
  expect(s.transitions.map((x) => x.id).sort()).toEqual(['fleet-0', 'fleet-1']);
  expect(s.examined).toBe(2);
  expect(m.aws.counter.byCommand()).toEqual({ QueryCommand: 1, UpdateItemCommand: 2 });
  expect(m.aws.counter.byCommand().ScanCommand).toBeUndefined();
});
