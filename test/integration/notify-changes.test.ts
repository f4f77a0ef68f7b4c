// Events from recorded colour changes (issue 13 part B), on DynamoDB Local with a real
// receiver on 127.0.0.1 and the master's clock under control: the report, sweep and heartbeat
// hooks (services/notify-changes.ts over notify/derive.ts), dependency suppression, flapping,
// silences, a bang's fan-out, and the crash windows of the guarded publish.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FLAP_SAMPLE_INTERVAL_MS } from '../../functions/domain/flapping.ts';
import { verifySignature } from '../../functions/notify/deliver.ts';
import { fanOutBang } from '../../functions/services/fanout.ts';
import { notifySession, recordWithEvents } from '../../functions/services/notify-changes.ts';
import { type DeliverDueResult, deliverDue } from '../../functions/services/notify-deliver.ts';
import { GUARDED_REPAIR_GRACE_MS } from '../../functions/services/notify-publish.ts';
import { ingestReport } from '../../functions/services/reports.ts';
import { runSweep } from '../../functions/services/sweep.ts';
import type { Store } from '../../functions/store/types.ts';
import type { EventType, RecordedEvent, VigilEvent } from '../../protocol/events.ts';
import { VigilEvent as VigilEventSchema } from '../../protocol/events.ts';
import { createTestMaster, type TestMaster } from '../helpers/master.ts';
import { addComputer, addPartition, addSr, report } from '../helpers/master-fleet.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';

const SECRET = 'vwh1_changes-test-secret-0123456789';
const MIN = 60_000;
let m: TestMaster;
let rx: Receiver;

beforeAll(async () => {
  m = await createTestMaster({ dashboard: false });
  rx = await startReceiver({ kind: 'status', status: 204 });
  await m.api.putChannel('hook', { kind: 'webhook', url: `${rx.url}/hook`, secret: SECRET });
  // frequency 600 s: partitions turn red by age 10 min after their last report
  await addSr(m, 'sr');
}, 120_000);
afterAll(async () => {
  await rx?.close();
  await m?.dispose();
});
beforeEach(async () => {
  await drain();
  rx.requests.length = 0;
});

/** Delivery passes until nothing is due at the clock's now. */
async function drain(): Promise<DeliverDueResult[]> {
  const out: DeliverDueResult[] = [];
  for (let i = 0; i < 50; i++) {
    const r = await deliverDue(m.deps, m.clock.now(), { random: () => 0, timeoutMs: 5000 });
    out.push(r);
    if (r.attempted + r.deferred + r.repaired === 0) return out;
  }
  throw new Error('drain: still due after 50 passes');
}

/** The events the receiver got (signatures checked), in arrival order. */
function received(): VigilEvent[] {
  return rx.requests.map((r) => {
    expect(verifySignature(SECRET, r.rawBody, String(r.headers['x-vigil-signature']))).toBe(true);
    const e = VigilEventSchema.parse(JSON.parse(r.rawBody.toString('utf8')));
    expect(r.headers['x-vigil-event-id']).toBe(e.eventId);
    return e;
  });
}
/** What the receiver got about one computer (and its partitions), of one type or all. */
const sent = (computerId: string, type?: EventType) => received().filter((e) => e.computerId === computerId && (!type || e.type === type));
const summary = (e: VigilEvent) => (e.type === 'partition.colour' || e.type === 'computer.colour' ? `${e.type} ${e.data.from}→${e.data.to}` : e.type);

async function recorded(q: { partitionId?: string; computerId?: string; type?: EventType }): Promise<RecordedEvent[]> {
  return (await m.api.listEvents({ ...q, limit: 1000 })).events.reverse();
}

async function fleet(computer: string, parts: string[], tree: string, frequency = 600): Promise<string> {
  const token = await addComputer(m, computer, frequency);
  for (const p of parts) await addPartition(m, p, computer, tree, 'sr');
  await m.as(token).heartbeat(computer, { agentVersion: '1' });
  return token;
}

const ok = (id: string) => report(id, m.clock.now(), [{ name: 'a.json' }]);
const failing = (id: string) => report(id, m.clock.now(), [{ name: 'a.json', failed: true, message: 'HTTP 503 on /health' }]);

describe('reports', () => {
  it('a report that turns a partition red sends one signed partition.colour event; green again sends one more; kept reports send nothing', async () => {
    const t = await fleet('rc', ['rp'], 'rt');
    await m.as(t).report('rp', ok('r1'));
    await drain();
    // a new partition's first OK report: recorded (red → green), not sent (receivers take it as green)
    expect(sent('rc', 'partition.colour')).toEqual([]);
    const first = await recorded({ partitionId: 'rp' });
    expect(first.map((r) => [summary(r.event), r.sendable, r.event.suppressed?.by])).toEqual([['partition.colour red→green', false, 'announced']]);
    m.clock.advance(1000);
    await m.as(t).report('rp', failing('r2'));
    // the same report again (an agent's retry): duplicate, no second event
    await m.as(t).report('rp', failing('r2'));
    await drain();
    const [red] = sent('rc', 'partition.colour');
    expect(red).toMatchObject({ partitionId: 'rp', computerId: 'rc', instanceTreeId: 'rt', data: { from: 'green', to: 'red' } });
    expect(red?.type === 'partition.colour' && red.data.reason).toContain('HTTP 503');
    for (let i = 0; i < 3; i++) {
      m.clock.advance(1000);
      await m.as(t).report('rp', failing(`r3-${i}`));
    }
    m.clock.advance(1000);
    await m.as(t).report('rp', ok('r4'));
    await drain();
    expect(sent('rc').map(summary)).toEqual(['partition.colour green→red', 'partition.colour red→green']);
    const p = await m.api.getPartition('rp');
    expect(p.flapping).toBe(false);
    expect(p.colour).toBe('green');
  });
});

describe('dependency suppression', () => {
  it('a computer going silent with 10 partitions: ONE computer.colour event listing them; their red (by age) recorded, folded, not sent', async () => {
    const parts = Array.from({ length: 10 }, (_, i) => `sp-${i}`);
    const t = await fleet('silent', parts, 'st');
    for (const p of parts) await m.as(t).report(p, ok(`${p}-ok`));
    await drain();
    rx.requests.length = 0;
    // 6 min without contact: orange (the partitions are still green: their reports are 6 min old)
    m.clock.advance(6 * MIN);
    await runSweep(m.deps, m.clock.now());
    await drain();
    const [orange, ...more] = sent('silent');
    expect(more).toEqual([]);
    expect(orange?.type).toBe('computer.colour');
    if (orange?.type !== 'computer.colour') return;
    expect(orange.data).toMatchObject({ from: 'green', to: 'orange', partitionCount: 10, instanceTreeIds: ['st'] });
    expect(orange.data.partitions.map((x) => `${x.partitionId}:${x.colour}`)).toEqual(parts.map((p) => `${p}:green`));
    // 11 min: every partition red by age (max report age 10 min): recorded, folded into the computer's event
    m.clock.advance(5 * MIN);
    const s = await runSweep(m.deps, m.clock.now());
    expect(s.transitions.filter((x) => x.type === 'partition' && x.id.startsWith('sp-'))).toHaveLength(10);
    await drain();
    expect(sent('silent')).toHaveLength(1);
    const folded = (await recorded({ computerId: 'silent', type: 'partition.colour' })).filter((r) => r.event.type === 'partition.colour' && r.event.data.to === 'red');
    expect(folded).toHaveLength(10);
    expect(folded.every((r) => !r.sendable && r.event.suppressed?.by === 'computer' && r.event.suppressed.id === 'silent')).toBe(true);
    // back: one computer.colour event (orange → green); the partitions' red is told at their next observation
    m.clock.advance(MIN);
    await m.as(t).heartbeat('silent', { agentVersion: '1' });
    await drain();
    expect(sent('silent').map(summary)).toEqual(['computer.colour green→orange', 'computer.colour orange→green']);
    await m.as(t).report('sp-0', failing('sp-0-bad'));
    await drain();
    expect(sent('silent').map(summary).slice(2)).toEqual(['partition.colour green→red']);
  });

  it('a steady heartbeat does no notification work (0 R + 1 W); only a recorded change reads the partitions', async () => {
    const t = await fleet('steady', ['stp'], 'stt');
    m.clock.advance(30_000);
    m.aws.counter.reset();
    await m.as(t).heartbeat('steady', { agentVersion: '1' });
    expect(m.aws.counter.byCommand()).toEqual({ UpdateItemCommand: 1 });
  });
});

describe('flapping', () => {
  it('alternating kept/failed every report: colour events until flapping.started (once), then none until flapping.stopped', async () => {
    // a frequency of a day: it stays green while quiet
    const t = await fleet('fc', ['fp'], 'ft', 86_400);
    for (let i = 0; i < 20; i++) {
      m.clock.advance(1000);
      await m.as(t).report('fp', i % 2 === 0 ? failing(`f${i}`) : ok(`f${i}`));
    }
    await drain();
    const types = sent('fc').map((e) => e.type);
    const started = types.indexOf('flapping.started');
    expect(started).toBeGreaterThan(0);
    expect(types.filter((x) => x === 'flapping.started')).toHaveLength(1);
    // before: every change was sent; after: nothing (the partition keeps alternating)
    expect(types.slice(0, started).every((x) => x === 'partition.colour')).toBe(true);
    expect(types.slice(started + 1)).toEqual([]);
    const flap = sent('fc', 'flapping.started')[0];
    expect(flap?.type === 'flapping.started' && flap.data.percentStateChange).toBeGreaterThan(50);
    expect((await m.api.getPartition('fp')).flapping).toBe(true);
    expect((await m.api.listPartitions({ instanceTreeId: 'ft' })).partitions[0]?.flapping).toBe(true);
    // the changes meanwhile are recorded, folded (by: flapping)
    const folded = (await recorded({ partitionId: 'fp', type: 'partition.colour' })).filter((r) => r.event.suppressed?.by === 'flapping');
    expect(folded.length).toBeGreaterThan(5);
    // stable (green) and quiet: the sweep samples it every minute until it stops
    m.clock.advance(1000);
    await m.as(t).report('fp', ok('f-stable'));
    let stoppedAt = -1;
    for (let i = 0; i < 30 && stoppedAt < 0; i++) {
      m.clock.advance(FLAP_SAMPLE_INTERVAL_MS);
      await m.as(t).heartbeat('fc', { agentVersion: '1' });
      await runSweep(m.deps, m.clock.now());
      if (!(await m.api.getPartition('fp')).flapping) stoppedAt = i;
    }
    expect(stoppedAt).toBeGreaterThanOrEqual(0);
    await drain();
    const after = sent('fc').map((e) => e.type);
    expect(after.slice(started)).toEqual(['flapping.started', 'flapping.stopped']);
    const stopped = sent('fc', 'flapping.stopped')[0];
    expect(stopped?.type === 'flapping.stopped' && stopped.data).toMatchObject({ colour: 'green', threshold: 25 });
    expect(stopped?.type === 'flapping.stopped' && stopped.data.percentStateChange).toBeLessThan(25);
    // stable now: a failure is told again
    m.clock.advance(1000);
    await m.as(t).report('fp', failing('f-after'));
    await drain();
    expect(sent('fc').map(summary).at(-1)).toBe('partition.colour green→red');
  });
});

describe('silences and bangs', () => {
  it('a silence over a tree: its events recorded, marked silenced, not sent; after it ends, new events are', async () => {
    const t = await fleet('qc', ['qp-1', 'qp-2'], 'quiet-tree');
    for (const p of ['qp-1', 'qp-2']) await m.as(t).report(p, ok(`${p}-0`));
    const start = m.clock.now();
    await m.api.putSilence('upgrade', { match: { instanceTreeId: 'quiet-tree' }, startsAt: start.toISOString(), endsAt: new Date(start.getTime() + 10 * MIN).toISOString(), reason: 'upgrade' });
    m.clock.advance(1000);
    await m.as(t).report('qp-1', failing('qp-1-bad'));
    await drain();
    expect(sent('qc')).toEqual([]);
    const [sil] = (await recorded({ partitionId: 'qp-1', type: 'partition.colour' })).slice(-1);
    expect(sil?.sendable).toBe(false);
    expect(sil?.event.silenced).toEqual({ silenceId: 'upgrade', reason: 'upgrade' });
    expect(sil?.deliveries).toEqual([{ channelId: 'hook', action: 'record-only', reason: 'silenced by upgrade: upgrade' }]);
    // the silence ends: the next change is sent; the one held back is told at the next observation
    await m.api.endSilence('upgrade');
    m.clock.advance(1000);
    await m.as(t).report('qp-2', failing('qp-2-bad'));
    await m.as(t).report('qp-1', failing('qp-1-bad-again'));
    await drain();
    expect(sent('qc').map((e) => `${'partitionId' in e ? e.partitionId : ''} ${summary(e)}`).sort()).toEqual(['qp-1 partition.colour green→red', 'qp-2 partition.colour green→red']);
  });

  it('a bang on a tree: one bang.accepted; the partitions turning red (sweep) and green again (reports) recorded, folded, not sent', async () => {
    const parts = Array.from({ length: 12 }, (_, i) => `bp-${String(i).padStart(2, '0')}`);
    const t = await fleet('bc', parts, 'bang-tree');
    for (const p of parts) await m.as(t).report(p, ok(`${p}-0`));
    await drain();
    rx.requests.length = 0;
    m.clock.advance(1000);
    const r = await m.as(t).bang('bp-00', { bangId: 'bang-1', message: 'anomaly', source: 'promise' });
    expect(r.fannedOutTo).toBe(12);
    const requestedAt = m.clock.now().toISOString();
    await fanOutBang(m.deps, { bangId: 'bang-1', partitionId: 'bp-00', computerId: 'bc', instanceTreeId: 'bang-tree', requestedAt, reason: 'anomaly' });
    m.clock.advance(1000);
    const s = await runSweep(m.deps, m.clock.now());
    expect(s.transitions.filter((x) => x.type === 'partition' && x.to === 'red')).toHaveLength(12);
    m.clock.advance(1000);
    for (const p of parts) await m.as(t).report(p, report(`${p}-1`, m.clock.now(), [{ name: 'a.json' }], { reprocessedUpTo: m.clock.now().toISOString() }));
    await drain();
    expect(sent('bc').map((e) => e.type)).toEqual(['bang.accepted']);
    const accepted = sent('bc')[0];
    expect(accepted?.type === 'bang.accepted' && accepted.data).toMatchObject({ fannedOutTo: 12, partitionCount: 12, partitions: parts });
    const bp = await recorded({ partitionId: 'bp-05', type: 'partition.colour' });
    expect(bp.slice(-2).map((x) => [summary(x.event), x.event.suppressed?.by])).toEqual([
      ['partition.colour green→red', 'bang'],
      ['partition.colour red→green', 'announced'],
    ]);
  });
});

describe('crash safety of the guarded publish', () => {
  /** A store that fails to queue deliveries (a crash between the change's write and its routing). */
  const crashingRoute = (): Store => ({
    ...m.store,
    enqueueDelivery: async () => {
      throw new Error('crashed while routing');
    },
  });

  it('the change written, then a crash before routing: the worker routes its event (once) after the grace period', async () => {
    const t = await fleet('kc', ['kp'], 'kt');
    await m.as(t).report('kp', ok('k0'));
    await drain();
    rx.requests.length = 0;
    m.clock.advance(1000);
    const errors: string[] = [];
    const d = { ...m.deps, store: crashingRoute(), logError: (msg: string) => errors.push(msg) };
    const p = await m.store.getPartition('kp');
    expect(await ingestReport(d, p!, failing('k1'))).toMatchObject({ status: 'accepted' });
    expect(errors).toEqual(['vigil: routing events failed (the delivery worker will)']);
    // recorded, named pending by the partition, not routed yet
    const stored = await m.store.getPartition('kp');
    expect(stored?.colour).toBe('red');
    expect(stored?.notifyPending).toHaveLength(1);
    await drain();
    expect(sent('kc')).toEqual([]);
    m.clock.advance(GUARDED_REPAIR_GRACE_MS);
    await drain();
    expect(sent('kc').map(summary)).toEqual(['partition.colour green→red']);
    // the next change of the partition finds nothing left to route (its computer still green)
    m.clock.advance(1000);
    await m.as(t).heartbeat('kc', { agentVersion: '1' });
    await m.as(t).report('kp', ok('k2'));
    await drain();
    expect(sent('kc').map(summary)).toEqual(['partition.colour green→red', 'partition.colour red→green']);
    expect((await m.store.getPartition('kp'))?.notifyPending).toEqual([]);
  });

  it('events recorded, then the write of the change fails: never routed, dropped after the grace period (no change, no event)', async () => {
    const t = await fleet('xc', ['xp'], 'xt');
    await m.as(t).report('xp', ok('x0'));
    await drain();
    rx.requests.length = 0;
    const p = (await m.store.getPartition('xp'))!;
    const at = m.clock.now().toISOString();
    const event: VigilEvent = {
      eventId: `ev_${'x'.repeat(43)}`,
      type: 'partition.colour',
      at,
      computerId: 'xc',
      partitionId: 'xp',
      instanceTreeId: 'xt',
      link: 'http://127.0.0.1:8787/partitions/xp',
      data: { from: 'green', to: 'red', reason: 'never written', since: at },
    };
    const d = { ...m.deps, now: m.clock.now };
    const ok2 = await recordWithEvents(d, notifySession(d), [event], { computerId: 'xc', partitionId: 'xp' }, p.notifyPending, async () => false);
    expect(ok2).toBe(false);
    expect((await recorded({ partitionId: 'xp' })).map((r) => r.event.eventId)).toContain(event.eventId);
    await drain();
    m.clock.advance(GUARDED_REPAIR_GRACE_MS);
    await drain();
    expect(sent('xc')).toEqual([]);
    expect((await recorded({ partitionId: 'xp' })).map((r) => r.event.eventId)).not.toContain(event.eventId);
    expect(await m.store.getEvent(event.eventId)).toBeNull();
  });
});
