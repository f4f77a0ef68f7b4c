// The minute sweep: transitions recorded with an injected clock; reads grow with colour
// changes, not with the fleet.
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

  // Nothing else is due: the sweep reads nothing more.
  m.clock.advance(10 * min);
  expect(await runSweep(m, m.clock.now())).toEqual({ examined: 0, changed: 0, transitions: [] });

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

it('sweep reads grow with colour changes, not with fleet size', async () => {
  const first = m;
  m = await createTestMaster({ dashboard: false });
  await first.dispose();
  const tokens: string[] = [];
  for (let i = 0; i < 40; i++) tokens.push(await addComputer(m, `fleet-${i}`));
  for (let i = 0; i < 40; i++) await m.as(tokens[i]!).heartbeat(`fleet-${i}`, { agentVersion: '1' });
  m.aws.counter.reset();
  m.clock.advance(30_000);
  const quiet = await runSweep(m, m.clock.now());
  expect(quiet.examined).toBe(0);
  expect(m.aws.counter.byCommand()).toEqual({ QueryCommand: 1 });
  // Two computers go quiet; the others keep calling.
  m.clock.advance(5 * min);
  for (let i = 2; i < 40; i++) await m.as(tokens[i]!).heartbeat(`fleet-${i}`, { agentVersion: '1' });
  m.aws.counter.reset();
  const s = await runSweep(m, m.clock.now());
  expect(s.transitions.map((x) => x.id).sort()).toEqual(['fleet-0', 'fleet-1']);
  expect(s.examined).toBe(2);
  expect(m.aws.counter.byCommand()).toEqual({ QueryCommand: 1, UpdateItemCommand: 2 });
  expect(m.aws.counter.byCommand().ScanCommand).toBeUndefined();
});

it('a heartbeat moves the sweep key only when needed; the sweep still records green → orange on time', async () => {
  const previous = m;
  m = await createTestMaster({ dashboard: false });
  await previous.dispose();
  const t = await addComputer(m, 'lazy');
  const start = m.clock.now().getTime();
  const keys = new Set<string | null>();
  for (let i = 0; i < 8; i++) {
    m.clock.set(new Date(start + i * min));
    m.aws.counter.reset();
    await m.as(t).heartbeat('lazy', { agentVersion: '1' });
    expect(m.aws.counter.total()).toBeLessThanOrEqual(2);
    keys.add((await m.store.getComputer('lazy'))?.sweepAt ?? null);
    // A computer that keeps calling is never read by the sweep.
    expect((await runSweep(m, m.clock.now())).examined).toBe(0);
  }
  // 8 heartbeats 60 s apart: the key moved twice (at 0 and 4 min), not 8 times.
  expect([...keys]).toEqual([new Date(start + 5 * min).toISOString(), new Date(start + 9 * min).toISOString()]);
  const lastContact = start + 7 * min;
  // Silent from now on: one early look (key at 9 min, still green: re-keyed), then orange
  // recorded at the first sweep at or after the real change (12 min), with the exact since.
  const seen: { at: number; examined: number; to: string[] }[] = [];
  for (let at = 8; at <= 13; at++) {
    m.clock.set(new Date(start + at * min));
    const s = await runSweep(m, m.clock.now());
    seen.push({ at, examined: s.examined, to: s.transitions.map((x) => `${x.id}:${x.to}`) });
  }
  expect(seen).toEqual([
    { at: 8, examined: 0, to: [] },
    { at: 9, examined: 1, to: [] },
    { at: 10, examined: 0, to: [] },
    { at: 11, examined: 0, to: [] },
    { at: 12, examined: 1, to: ['lazy:orange'] },
    { at: 13, examined: 0, to: [] },
  ]);
  expect(await m.api.getComputer('lazy')).toMatchObject({ colour: 'orange', colourSince: new Date(lastContact + 5 * min).toISOString() });
});

it('the sweep does not write a verdict computed from a computer read before a later heartbeat', async () => {
  const t = await addComputer(m, 'racer');
  await m.as(t).heartbeat('racer', { agentVersion: '1' });
  const stale = await m.store.getComputer('racer');
  if (!stale) throw new Error('no computer');
  m.clock.advance(min);
  await m.as(t).heartbeat('racer', { agentVersion: '1' }); // keeps the sweep key
  expect((await m.store.getComputer('racer'))?.sweepAt).toBe(stale.sweepAt);
  const wrote = await m.store.recordColour({ type: 'computer', record: stale }, { colour: 'orange', colourReason: 'stale', colourSince: m.clock.now().toISOString(), sweepAt: null });
  expect(wrote).toBe(false);
  expect(await m.store.getComputer('racer')).toMatchObject({ colour: 'green', sweepAt: stale.sweepAt });
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
