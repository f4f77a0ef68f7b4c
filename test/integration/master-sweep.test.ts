// The minute sweep: transitions recorded with an injected clock; it reads every computer (one
// Query of small items) and only the partitions due (the lazy sweep index).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runSweep } from '../../functions/services/sweep.ts';
import { createTestMaster, type TestMaster } from '../helpers/master.ts';
import { addComputer, addPartition, addSr, report } from '../helpers/master-fleet.ts';

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
  await m.as(t).heartbeat('c', { agentVersion: '1' });
  await m.as(t).report('p', report('r1', start));
  let c = await m.api.getComputer('c');
  expect(c).toMatchObject({ colour: 'green', colourSince: start.toISOString() });
  expect((await m.api.getPartition('p')).colour).toBe('green');

  m.clock.advance(4 * min);
  expect((await runSweep(m, m.clock.now())).changed).toBe(0);

  m.clock.advance(2 * min); // 6 min without contact
  const s1 = await runSweep(m, m.clock.now());
  expect(s1.transitions).toEqual([{ type: 'computer', id: 'c', from: 'green', to: 'orange', reason: 'no contact for 6 min' }]);
  c = await m.api.getComputer('c');
  expect(c).toMatchObject({ colour: 'orange', colourSince: new Date(start.getTime() + 5 * min).toISOString() });

  m.clock.advance(55 * min); // 61 min: computer red, report (max age 1 h) expired
  const s2 = await runSweep(m, m.clock.now());
  expect(s2.transitions.map((x) => `${x.type}:${x.from}->${x.to}`).sort()).toEqual(['computer:orange->red', 'partition:green->red']);
  const p = await m.api.getPartition('p');
  expect(p).toMatchObject({ colour: 'red', colourReason: 'last report 61 min ago', colourSince: new Date(start.getTime() + 60 * min).toISOString() });

  // Nothing else is due: the sweep reads the one computer, no partition, and changes nothing.
  m.clock.advance(10 * min);
  expect(await runSweep(m, m.clock.now())).toMatchObject({ examined: 1, changed: 0, transitions: [] });

  // Contact again: green at once, recorded by the heartbeat.
  await m.as(t).heartbeat('c', { agentVersion: '1' });
  expect(await m.api.getComputer('c')).toMatchObject({ colour: 'green', colourSince: m.clock.now().toISOString() });
});

it('a bang is recorded as a transition of the tree by the sweep', async () => {
  await addSr(m, 'sr2');
  const t = await addComputer(m, 'c2');
  await addPartition(m, 'x1', 'c2', 'tree2', 'sr2');
  await addPartition(m, 'x2', 'c2', 'tree2', 'sr2');
  await m.as(t).report('x1', report('a', m.clock.now()));
  await m.as(t).report('x2', report('b', m.clock.now()));
  await runSweep(m, m.clock.now());
  m.clock.advance(1000);
  await m.as(t).bang('x1', { bangId: 'b1', message: 'down', source: 'watchdog' });
  await m.store.flagReprocess({ computerId: 'c2', partitionId: 'x2' }, { requestedAt: m.clock.now().toISOString(), reason: 'bang', bangId: 'b1' });
  const s = await runSweep(m, m.clock.now());
  expect(s.transitions.map((x) => `${x.id}:${x.to}`).sort()).toEqual(['x1:red', 'x2:red']);
});

it('the sweep reads every computer in one Query and only the partitions due; it writes only changes (with their events) and the summary', async () => {
  const first = m;
  m = await createTestMaster({ dashboard: false });
  await first.dispose();
  const tokens: string[] = [];
  for (let i = 0; i < 40; i++) tokens.push(await addComputer(m, `fleet-${i}`));
  for (let i = 0; i < 40; i++) await m.as(tokens[i]!).heartbeat(`fleet-${i}`, { agentVersion: '1' });
  m.aws.counter.reset();
  m.clock.advance(30_000);
  const quiet = await runSweep(m, m.clock.now());
  expect(quiet).toMatchObject({ examined: 40, changed: 0, summary: { computers: { green: 40, orange: 0, red: 0 }, partitionsRed: 0 } });
  // the computers, the partitions due, the red count; the summary item
  expect(m.aws.counter.byCommand()).toEqual({ QueryCommand: 3, UpdateItemCommand: 1 });
  // Two computers go quiet; the others keep calling.
  m.clock.advance(5 * min);
  for (let i = 2; i < 40; i++) await m.as(tokens[i]!).heartbeat(`fleet-${i}`, { agentVersion: '1' });
  m.aws.counter.reset();
  const s = await runSweep(m, m.clock.now());
  expect(s.transitions.map((x) => x.id).sort()).toEqual(['fleet-0', 'fleet-1']);
  expect(s.summary.computers).toEqual({ green: 38, orange: 2, red: 0 });
  // + per computer that changed: its partitions (Query; the event lists them), its
  // computer.colour event (PutItem), marked routed, its pending mark cleared (UpdateItem);
  // once per sweep: the silences and the channels (Query)
  expect(m.aws.counter.byCommand()).toEqual({ QueryCommand: 3 + 2 + 2, PutItemCommand: 2, UpdateItemCommand: 3 + 2 * 2 });
  const orange = (await m.api.listEvents({ type: 'computer.colour', limit: 1000 })).events.filter((e) => e.event.type === 'computer.colour' && e.event.data.to === 'orange');
  expect(orange.map((e) => e.event.computerId).sort()).toEqual(['fleet-0', 'fleet-1']);
  expect(m.aws.counter.byCommand().ScanCommand).toBeUndefined();
  expect(await m.api.summary()).toEqual({ computers: { green: 38, orange: 2, red: 0 }, partitions: { green: 0, red: 0 }, asOf: m.clock.now().toISOString() });
});

it('a report keeps a partition\'s sweep key while it is not later than the real expiry; the sweep re-keys it when it comes due, and records the expiry on time', async () => {
  const previous = m;
  m = await createTestMaster({ dashboard: false });
  await previous.dispose();
  await addSr(m, 'sr-lazy', { periodicitySeconds: 3600 });
  const t = await addComputer(m, 'lc');
  await addPartition(m, 'lp', 'lc', 'tree-lazy', 'sr-lazy');
  const start = m.clock.now().getTime();
  const keys = new Set<string | null>();
  // A report every 10 minutes for 2 hours (max report age 1 h).
  for (let i = 0; i < 12; i++) {
    m.clock.set(new Date(start + i * 10 * min));
    await m.as(t).report('lp', report(`r${i}`, m.clock.now()));
    await runSweep(m, m.clock.now());
    keys.add((await m.store.getPartition('lp'))?.sweepAt ?? null);
  }
  // keyed at the first report's expiry, re-keyed by the sweep when that came due (60 min) to the then latest expiry
  expect([...keys]).toEqual([new Date(start + 60 * min).toISOString(), new Date(start + 120 * min).toISOString()]);
  expect((await m.api.getPartition('lp')).colour).toBe('green');
  // Silent from the last report (110 min): red at 170 min, not before.
  const seen: string[] = [];
  for (const at of [119, 120, 169, 170]) {
    m.clock.set(new Date(start + at * min));
    const s = await runSweep(m, m.clock.now());
    seen.push(`${at}:${s.transitions.map((x) => `${x.id}:${x.to}`).join(',')}`);
  }
  expect(seen).toEqual(['119:', '120:', '169:', '170:lp:red']);
  expect(await m.api.getPartition('lp')).toMatchObject({ colour: 'red', colourSince: new Date(start + 170 * min).toISOString() });
  // red by age: in the red index (the summary counts it), out of the sweep index
  expect((await m.api.summary()).partitions).toEqual({ green: 0, red: 1 });
  expect((await m.store.getPartition('lp'))?.sweepAt).toBeNull();
});

it('the sweep does not write a verdict computed from a computer read before a later heartbeat', async () => {
  const t = await addComputer(m, 'racer');
  await m.as(t).heartbeat('racer', { agentVersion: '1' });
  const stale = await m.store.getComputer('racer');
  if (!stale) throw new Error('no computer');
  m.clock.advance(min);
  await m.as(t).heartbeat('racer', { agentVersion: '1' });
  const wrote = await m.store.recordComputerColour('racer', { colour: 'orange', colourReason: 'stale', colourSince: m.clock.now().toISOString() }, stale.lastContactAt);
  expect(wrote).toBe(false);
  expect(await m.store.getComputer('racer')).toMatchObject({ colour: 'green' });
});

it('colourSince restarts at a change the sweep never recorded (heartbeat after a silence, report after expiry)', async () => {
  await addSr(m, 'sr-since', { periodicitySeconds: 3600 });
  const t = await addComputer(m, 'unswept');
  await addPartition(m, 'unswept-p', 'unswept', 'tree-since', 'sr-since');
  const created = m.clock.now().toISOString();
  // Before any contact or report: red since registration.
  expect(await m.api.getComputer('unswept')).toMatchObject({ colour: 'red', colourSince: created });
  expect(await m.api.getPartition('unswept-p')).toMatchObject({ colour: 'red', colourReason: 'no report yet', colourSince: created });
  await m.as(t).heartbeat('unswept', { agentVersion: '1' });
  await m.as(t).report('unswept-p', report('s1', m.clock.now()));
  const first = m.clock.now().getTime();
  // Two hours without contact and without any sweep.
  m.clock.advance(120 * min);
  expect(await m.api.getComputer('unswept')).toMatchObject({ colour: 'red', colourSince: new Date(first + 60 * min).toISOString() });
  expect(await m.api.getPartition('unswept-p')).toMatchObject({ colour: 'red', colourSince: new Date(first + 60 * min).toISOString() });
  await m.as(t).heartbeat('unswept', { agentVersion: '1' });
  await m.as(t).report('unswept-p', report('s2', m.clock.now()));
  const now = m.clock.now().toISOString();
  expect(await m.api.getComputer('unswept')).toMatchObject({ colour: 'green', colourSince: now });
  expect(await m.api.getPartition('unswept-p')).toMatchObject({ colour: 'green', colourSince: now });
});
