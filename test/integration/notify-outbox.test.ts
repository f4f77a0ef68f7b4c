// publishEvents + deliverDue against a real receiver on 127.0.0.1 and DynamoDB Local, with a
// fake master clock: signatures over the raw bytes, idempotent publishing, marked events
// recorded not sent, channel filters, order per partition through failures, back-off with
// the receiver down, poison events dead, leases between two workers, crash repair.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../../functions/notify/deliver.ts';
import { bangAcceptedEvent, bangRejectedEvent } from '../../functions/notify/derive.ts';
import { orderingKey, sequenceKey } from '../../functions/notify/queue-rules.ts';
import { type DeliverDueOptions, type DeliverDueResult, deliverDue } from '../../functions/services/notify-deliver.ts';
import { publishEvents, publishPending, REPAIR_GRACE_MS } from '../../functions/services/notify-publish.ts';
import { type VigilEvent, VigilEvent as VigilEventSchema } from '../../protocol/events.ts';
import { createTestMaster, type TestMaster } from '../helpers/master.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';

const SECRET = 'vwh1_outbox-test-secret-0123456789';
const BASE = 'http://127.0.0.1:8787';
let m: TestMaster;
let rx: Receiver;
let n = 0;

/** A distinct bang.accepted event of `partitionId` (tree `tree`), `s` seconds after the clock. */
function bang(partitionId: string, s = 0, o: { tree?: string; silenced?: boolean } = {}): VigilEvent {
  n++;
  const at = new Date(m.clock.now().getTime() + s * 1000).toISOString();
  const facts = { bangId: `b-${n}`, partitionId, computerId: 'COMP-1', instanceTreeId: o.tree ?? 'shop', source: 'manual' as const, message: `bang ${n}` };
  const silences = o.silenced
    ? [{ silenceId: 'maint', match: { partitionId }, startsAt: '2000-01-01T00:00:00Z', endsAt: '2100-01-01T00:00:00Z', reason: 'maintenance', endedAt: null }]
    : [];
  return bangAcceptedEvent({ bang: facts, fannedOutTo: 1, partitionIds: [partitionId], partitionCount: 1, at, silences, baseUrl: BASE });
}

const ids = (evs: VigilEvent[]) => evs.map((e) => e.eventId);
const receivedIds = () => rx.requests.map((r) => String(r.headers['x-vigil-event-id']));

/** Passes until nothing is due at the clock's now (advancing nothing). */
async function drain(opts: DeliverDueOptions = {}): Promise<DeliverDueResult[]> {
  const out: DeliverDueResult[] = [];
  for (let i = 0; i < 50; i++) {
    const r = await deliverDue(m.deps, m.clock.now(), { random: () => 0, timeoutMs: 5000, ...opts });
    out.push(r);
    if (!r.nextWakeAt || r.nextWakeAt > m.clock.now()) return out;
    if (r.attempted + r.deferred + r.repaired === 0) return out;
  }
  throw new Error('drain: still due after 50 passes');
}

async function resetChannels(): Promise<void> {
  for (const c of (await m.api.listChannels({ limit: 1000 })).channels) await m.api.deleteChannel(c.channelId);
}

beforeAll(async () => {
  m = await createTestMaster({ dashboard: false });
  rx = await startReceiver();
});
afterAll(async () => {
  await rx?.close();
  await m?.dispose();
});
beforeEach(async () => {
  await resetChannels();
  await drain();
  rx.requests.length = 0;
  rx.behave({ kind: 'status', status: 204 });
});
afterEach(() => {
  rx.behave({ kind: 'status', status: 204 });
});

describe('publish and deliver', () => {
  it('a webhook gets the event once, signed over the raw bytes, with X-Vigil-Event-Id; the channel and the event show it', async () => {
    await m.api.putChannel('hook', { kind: 'webhook', url: `${rx.url}/hook`, secret: SECRET });
    const e = bang('p-sig');
    expect(await publishEvents(m.deps, [e])).toEqual({ recorded: 1, known: 0, queued: 1 });
    await drain();
    expect(rx.requests).toHaveLength(1);
    const req = rx.requests[0]!;
    expect(req.headers['x-vigil-event-id']).toBe(e.eventId);
    expect(verifySignature(SECRET, req.rawBody, String(req.headers['x-vigil-signature']))).toBe(true);
    expect(VigilEventSchema.parse(JSON.parse(req.rawBody.toString('utf8')))).toEqual(e);

    // the same event again: recorded already, nothing sent twice
    expect(await publishEvents(m.deps, [e])).toEqual({ recorded: 0, known: 1, queued: 0 });
    await drain();
    expect(rx.requests).toHaveLength(1);

    const ch = await m.api.getChannel('hook');
    expect(ch.lastDelivery).toMatchObject({ eventId: e.eventId, ok: true, status: 204 });
    expect(ch.backlog).toBe(0);
    const [rec] = (await m.api.listEvents({ partitionId: 'p-sig' })).events;
    expect(rec!.deliveries).toEqual([{ channelId: 'hook', action: 'send', state: 'delivered' }]);
  });

  it('silenced and suppressed events are recorded, not sent; type and tree filters skip', async () => {
    await m.api.putChannel('all', { kind: 'webhook', url: `${rx.url}/all`, secret: SECRET });
    await m.api.putChannel('tree-blog', { kind: 'webhook', url: `${rx.url}/blog`, secret: SECRET, instanceTreeId: 'blog' });
    await m.api.putChannel('rejected-only', { kind: 'webhook', url: `${rx.url}/rej`, secret: SECRET, events: ['bang.rejected'] });
    const silenced = bang('p-f', 0, { silenced: true });
    const suppressed: VigilEvent = { ...bang('p-f', 1), suppressed: { by: 'computer', id: 'COMP-1' } };
    const shop = bang('p-f', 2);
    const blog = bang('p-g', 3, { tree: 'blog' });
    const rejected = bangRejectedEvent({
      bang: { bangId: 'rj', partitionId: 'p-g', computerId: 'COMP-1', instanceTreeId: 'blog', source: 'promise', message: 'again' },
      quotaPerDay: 1,
      retryAfter: '2025-06-02T00:00:00.000Z',
      at: m.clock.now().toISOString(),
      silences: [],
      baseUrl: BASE,
    });
    await publishEvents(m.deps, [silenced, suppressed, shop, blog, rejected]);
    await drain();
    const by = (path: string) => rx.requests.filter((r) => r.url === path).map((r) => String(r.headers['x-vigil-event-id']));
    expect(by('/all').sort()).toEqual([shop.eventId, blog.eventId, rejected.eventId].sort());
    expect(by('/blog').sort()).toEqual([blog.eventId, rejected.eventId].sort());
    expect(by('/rej')).toEqual([rejected.eventId]);

    const recs = (await m.api.listEvents({ partitionId: 'p-f' })).events;
    const sil = recs.find((r) => r.event.eventId === silenced.eventId)!;
    expect(sil.sendable).toBe(false);
    expect(sil.event.silenced).toEqual({ silenceId: 'maint', reason: 'maintenance' });
    expect(sil.deliveries?.find((d) => d.channelId === 'all')).toMatchObject({ action: 'record-only' });
    expect(sil.deliveries?.find((d) => d.channelId === 'tree-blog')).toMatchObject({ action: 'skip' });
    const sup = recs.find((r) => r.event.eventId === suppressed.eventId)!;
    expect(sup.deliveries?.find((d) => d.channelId === 'all')).toMatchObject({ action: 'record-only' });
  });

  it('order per partition through failures; another partition is not held up', async () => {
    await m.api.putChannel('ord', { kind: 'webhook', url: `${rx.url}/ord`, secret: SECRET });
    const p1 = [bang('p-o1', 0), bang('p-o1', 1), bang('p-o1', 2), bang('p-o1', 3)];
    const p2 = [bang('p-o2', 1)];
    // p-o1's first event fails twice (503, then a reset), then everything is fine
    let p1Failures = 2;
    rx.behave((req) => {
      if (req.headers['x-vigil-event-id'] === p1[0]!.eventId && p1Failures > 0) {
        p1Failures--;
        return p1Failures === 1 ? { kind: 'status', status: 503 } : { kind: 'reset' };
      }
      return { kind: 'status', status: 200 };
    });
    await publishEvents(m.deps, [...p1, ...p2]);
    await drain();
    // p-o2 got through while p-o1's head waits for its retry; nothing of p-o1 after its head
    expect(new Set(receivedIds())).toEqual(new Set([p1[0]!.eventId, p2[0]!.eventId]));
    for (let i = 0; i < 6; i++) {
      m.clock.advance(11_000);
      await drain();
    }
    const p1Got = receivedIds().filter((id) => ids(p1).includes(id));
    // the head three times (503, reset, 200), then the rest once each, in order
    expect(p1Got).toEqual([p1[0]!.eventId, p1[0]!.eventId, p1[0]!.eventId, p1[1]!.eventId, p1[2]!.eventId, p1[3]!.eventId]);
    expect((await m.api.getChannel('ord')).backlog).toBe(0);
  });

  it('back-off with the receiver down: 5 s doubling, nothing lost, all delivered in order when it is back', async () => {
    await m.api.putChannel('down', { kind: 'webhook', url: `${rx.url}/down`, secret: SECRET });
    rx.behave({ kind: 'status', status: 503, headers: {}, body: 'maintenance' });
    const evs = [bang('p-d', 0), bang('p-d', 1), bang('p-d', 2)];
    await publishEvents(m.deps, evs);
    const tries: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = rx.requests.length;
      await drain();
      if (rx.requests.length > before) tries.push(m.clock.now().getTime());
      const [rec] = (await m.api.listEvents({ partitionId: 'p-d', limit: 3 })).events.slice(-1);
      const d = rec!.deliveries![0]!;
      expect(d.state).toBe('queued');
      m.clock.set(d.nextAttemptAt as string);
    }
    // delays between attempts: 5, 10, 20, 40 s ... (random() = 0: no jitter)
    const gaps = tries.slice(1).map((t, i) => (t - (tries[i] as number)) / 1000);
    expect(gaps.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    // only the head was ever tried
    expect(new Set(receivedIds())).toEqual(new Set([evs[0]!.eventId]));
    const ch = await m.api.getChannel('down');
    expect(ch.backlog).toBe(3);
    expect(ch.lastDelivery).toMatchObject({ ok: false, status: 503, error: 'HTTP 503: maintenance' });

    rx.behave({ kind: 'status', status: 200 });
    rx.requests.length = 0;
    const head = (await m.api.listEvents({ partitionId: 'p-d' })).events.at(-1)!.deliveries![0]!;
    m.clock.set(head.nextAttemptAt as string);
    await drain();
    expect(receivedIds()).toEqual(ids(evs));
    expect((await m.api.getChannel('down')).backlog).toBe(0);
  });

  it('a poison event (4xx) is dead, recorded, and the queue moves on', async () => {
    await m.api.putChannel('poison', { kind: 'webhook', url: `${rx.url}/poison`, secret: SECRET });
    const evs = [bang('p-x', 0), bang('p-x', 1)];
    rx.behave((req) => (req.headers['x-vigil-event-id'] === evs[0]!.eventId ? { kind: 'status', status: 422, body: 'unprocessable' } : { kind: 'status', status: 200 }));
    await publishEvents(m.deps, evs);
    await drain();
    expect(receivedIds()).toEqual(ids(evs));
    const ch = await m.api.getChannel('poison');
    expect(ch.dead).toEqual({ count: 1, last: { at: expect.any(String), eventId: evs[0]!.eventId, error: 'HTTP 422: unprocessable' } });
    expect(ch.lastDelivery).toMatchObject({ eventId: evs[1]!.eventId, ok: true });
    const states = (await m.api.listEvents({ partitionId: 'p-x' })).events.map((r) => [r.event.eventId, r.deliveries?.[0]?.state]);
    expect(states).toEqual([
      [evs[1]!.eventId, 'delivered'],
      [evs[0]!.eventId, 'dead'],
    ]);
  });

  it('two workers at once never deliver the same item (leases)', async () => {
    await m.api.putChannel('race', { kind: 'webhook', url: `${rx.url}/race`, secret: SECRET });
    rx.behave({ kind: 'status', status: 200, delayMs: 150 });
    const evs = Array.from({ length: 12 }, (_, i) => bang(`p-r${i % 6}`, i));
    await publishEvents(m.deps, evs);
    for (let i = 0; i < 6; i++) await Promise.all([drain({ concurrency: 4 }), drain({ concurrency: 4 })]);
    await drain();
    const got = receivedIds();
    expect(got.sort()).toEqual(ids(evs).sort());
    expect(new Set(got).size).toBe(got.length);
  });

  it('a publish cut short after the event was recorded is finished by the worker after the grace period', async () => {
    await m.api.putChannel('repair', { kind: 'webhook', url: `${rx.url}/repair`, secret: SECRET });
    const e = bang('p-c');
    // the crash: only step 1 happened
    const now = m.clock.now();
    expect(await m.store.recordEvent(e, 0, now.toISOString(), new Date(now.getTime() + REPAIR_GRACE_MS).toISOString(), 2e9)).toBe(true);
    await drain();
    expect(rx.requests).toHaveLength(0);
    m.clock.advance(REPAIR_GRACE_MS);
    expect(await publishPending(m.deps)).toBe(1);
    await drain();
    expect(receivedIds()).toEqual([e.eventId]);
    // and a publish that stopped after queueing for some channels is finished without doubles
    const f = bang('p-c', 1);
    const t = m.clock.now();
    await m.store.recordEvent(f, 0, t.toISOString(), new Date(t.getTime() + REPAIR_GRACE_MS).toISOString(), 2e9);
    const item = { channelId: 'repair', key: orderingKey(f), seq: sequenceKey(f.at, 0, f.eventId), eventId: f.eventId, attempts: 0, firstFailureAt: null };
    await m.store.enqueueDelivery({ ...item, nextAttemptAt: t.toISOString(), leasedUntil: null, leaseId: null, dueAt: t.toISOString(), deferrals: 0 });
    expect(await publishEvents(m.deps, [f])).toEqual({ recorded: 0, known: 0, queued: 0 });
    await drain();
    expect(receivedIds()).toEqual([e.eventId, f.eventId]);
  });

  it('events named by the wake-up are delivered even while the notifyDue index lags (AWS GSIs are eventually consistent)', async () => {
    await m.api.putChannel('lag', { kind: 'webhook', url: `${rx.url}/lag`, secret: SECRET });
    const evs = [bang('p-lag', 0), bang('p-lag2', 0)];
    await publishEvents(m.deps, evs);
    // a store whose index shows nothing yet
    const lagging = { ...m.deps, store: { ...m.store, dueEntries: async () => [], earliestDue: async () => null } };
    expect((await deliverDue(lagging, m.clock.now(), { random: () => 0 })).delivered).toBe(0);
    const r = await deliverDue(lagging, m.clock.now(), { random: () => 0, events: ids(evs) });
    expect(r.delivered).toBe(2);
    expect(receivedIds().sort()).toEqual(ids(evs).sort());
    // named again (a duplicate wake-up): nothing is sent twice
    expect((await deliverDue(lagging, m.clock.now(), { random: () => 0, events: ids(evs) })).attempted).toBe(0);
  });
});
