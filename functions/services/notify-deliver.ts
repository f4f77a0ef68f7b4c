// The delivery worker's pass (docs/notifications.md "Storage and delivery"), the same locally
// (the master's in-process loop) and in the cloud (the notify function). One pass:
//   - reads the notifyDue entries due now (one Query): events left unrouted past their grace
//     period are routed (publish repair), and of the queue items the earliest of each FIFO
//     (channel, ordering key) is a candidate;
//   - leases each candidate (a conditional write: no two workers attempt the same item), and
//     checks it is the head of its FIFO (one strongly consistent Query): an item that is not
//     goes back to sleep (longer each time) until its predecessor, once delivered or dead,
//     promotes it;
//   - delivers (deliver(): one signed POST, classified), then afterAttempt(): delivered or
//     dead → the next item of the FIFO promoted, then this one deleted (so a crash between the
//     two repeats a delivery, never loses the next); retry → rescheduled at its back-off;
//   - writes each channel's last result once per pass (and its dead count).
// At least once: a worker that dies holding a lease leaves the item due; it is attempted again
// when the lease (60 s) runs out.
import type { LastDelivery, VigilEvent } from '../../protocol/events.ts';
import { mapLimit } from '../lib/concurrency.ts';
import { deliver, type DeliveryOutcome } from '../notify/deliver.ts';
import { afterAttempt, DELIVERY_LEASE_MS, orderingKey, sequenceKey } from '../notify/queue-rules.ts';
import type { DeadDelivery, StoredChannel, StoredDelivery } from '../store/notify-types.ts';
import type { ServiceDeps } from './deps.ts';
import { BUS_CHANNEL_ID, type BusSender } from './notify-deps.ts';
import { EVENT_TTL_SECONDS, type PublishDeps, repairEvent } from './notify-publish.ts';

export interface DeliverDueOptions {
  /** Injected for tests; the global fetch by default. */
  fetch?: typeof fetch;
  /** Jitter of the back-off (Math.random by default). */
  random?: () => number;
  /** notifyDue entries read per pass (default 200). */
  limit?: number;
  /**
   * Events just published (the wake-up names them): their queue items are candidates even
   * before the notifyDue index shows them (a GSI is eventually consistent on AWS).
   */
  events?: readonly string[];
  /** Deliveries attempted at once (default 8). */
  concurrency?: number;
  /** Delivery timeout (default deliver()'s 10 s). */
  timeoutMs?: number;
  /** The EventBridge bus (cloud): bus items are dropped as dead without it. */
  bus?: BusSender;
  /** A new random lease id (tests may fix it). */
  leaseId?: () => string;
}

export interface DeliverDueResult {
  /** Unrouted events routed by this pass (publish repair). */
  repaired: number;
  attempted: number;
  delivered: number;
  retried: number;
  dead: number;
  /** Items put back to sleep: not the head of their FIFO. */
  deferred: number;
  /** When the earliest notifyDue entry is due after this pass (null: nothing queued). */
  nextWakeAt: Date | null;
}

export type DeliverDeps = PublishDeps & Pick<ServiceDeps, 'store' | 'now'>;

/** An item that is not its FIFO's head sleeps 15 min, then twice as long each time, at most a day. */
export const DEFER_FIRST_MS = 15 * 60_000;
export const DEFER_MAX_MS = 86_400_000;

const iso = (t: number) => new Date(t).toISOString();
const newLeaseId = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;

/** A queue item's identity. */
type Ref = { channelId: string; key: string; seq: string };

interface ChannelTally {
  last: LastDelivery | null;
  dead: number;
  lastDead: DeadDelivery | null;
}

interface Pass {
  deps: DeliverDeps;
  opts: DeliverDueOptions;
  channels: Map<string, StoredChannel>;
  tally: Map<string, ChannelTally>;
  result: DeliverDueResult;
}

function note(pass: Pass, channelId: string, last: LastDelivery, dead: DeadDelivery | null): void {
  if (channelId === BUS_CHANNEL_ID) return;
  const t = pass.tally.get(channelId) ?? { last: null, dead: 0, lastDead: null };
  if (!t.last || t.last.at <= last.at) t.last = last;
  if (dead) {
    t.dead++;
    t.lastDead = dead;
  }
  pass.tally.set(channelId, t);
}

/** Back to sleep behind the FIFO's head; an item promoted meanwhile stays awake (checked again soon). */
async function sleepBehind(pass: Pass, d: StoredDelivery, head: StoredDelivery): Promise<void> {
  const now = pass.deps.now().getTime();
  pass.result.deferred++;
  const sleep = Math.min(DEFER_MAX_MS, DEFER_FIRST_MS * 2 ** Math.min(d.deferrals, 20));
  if (await pass.deps.store.deferDelivery(d, iso(now + sleep))) return;
  const headBusy = Math.max(Date.parse(head.nextAttemptAt) || 0, head.leasedUntil ? Date.parse(head.leasedUntil) : 0);
  await pass.deps.store.releaseDelivery(d, iso(Math.max(now + 1000, headBusy)));
}

/** Delivered or dead: the next of the FIFO is made due first, then this one goes. */
async function removeHead(pass: Pass, d: StoredDelivery, next: StoredDelivery | undefined): Promise<void> {
  if (next) await pass.deps.store.promoteDelivery(next.channelId, next.key, next.seq, pass.deps.now().toISOString());
  await pass.deps.store.removeDelivery(d.channelId, d.key, d.seq);
}

async function attemptOne(pass: Pass, d: StoredDelivery, event: VigilEvent | null): Promise<DeliveryOutcome> {
  if (!event) return { result: 'dead', error: 'the event is no longer recorded', durationMs: 0 };
  if (d.channelId === BUS_CHANNEL_ID) {
    return pass.opts.bus ? pass.opts.bus(event) : { result: 'dead', error: 'no EventBridge bus configured', durationMs: 0 };
  }
  const c = pass.channels.get(d.channelId) as StoredChannel;
  return deliver(c, event, {
    ...(pass.opts.fetch ? { fetch: pass.opts.fetch } : {}),
    ...(pass.opts.timeoutMs ? { timeoutMs: pass.opts.timeoutMs } : {}),
    now: pass.deps.now,
    attempt: d.attempts + 1,
  });
}

/** One candidate: lease, head check, attempt, bookkeeping. */
async function handleDelivery(pass: Pass, ref: Ref): Promise<void> {
  const { store } = pass.deps;
  const now = pass.deps.now();
  const d = await store.leaseDelivery(ref.channelId, ref.key, ref.seq, now.toISOString(), iso(now.getTime() + DELIVERY_LEASE_MS), (pass.opts.leaseId ?? newLeaseId)());
  if (!d) return;
  const [head, next] = await store.fifoHead(d.channelId, d.key, 2);
  if (!head) return;
  if (head.seq !== d.seq) return sleepBehind(pass, d, head);
  if (d.channelId !== BUS_CHANNEL_ID && !pass.channels.has(d.channelId)) {
    const created = await store.getChannel(d.channelId);
    // the channel was deleted (its queue is dropped with it; this is a straggler)
    if (!created) return removeHead(pass, d, next);
    pass.channels.set(created.channelId, created);
  }
  pass.result.attempted++;
  const stored = await store.getEvent(d.eventId);
  const outcome = await attemptOne(pass, d, stored?.event ?? null);
  const after = afterAttempt(d, outcome, pass.deps.now(), pass.opts.random);
  if (after.action === 'reschedule') {
    pass.result.retried++;
    await store.rescheduleDelivery(after.item);
    note(pass, d.channelId, after.lastDelivery, null);
    return;
  }
  let dead: DeadDelivery | null = null;
  if (after.dead) {
    pass.result.dead++;
    dead = { at: after.lastDelivery.at, eventId: d.eventId, error: after.lastDelivery.error ?? 'dead' };
    const expiresAt = Math.floor(Date.parse(after.lastDelivery.at) / 1000) + EVENT_TTL_SECONDS;
    await store.recordDeadDelivery(d.eventId, d.channelId, dead, expiresAt);
  } else pass.result.delivered++;
  await removeHead(pass, d, next);
  note(pass, d.channelId, after.lastDelivery, dead);
}

/** The queue items of events named by a wake-up (read from the event items: consistent reads). */
async function hintedRefs(deps: DeliverDeps, eventIds: readonly string[], channels: readonly StoredChannel[], now: Date): Promise<Ref[]> {
  const refs: Ref[] = [];
  for (const eventId of new Set(eventIds)) {
    let stored = await deps.store.getEvent(eventId);
    if (stored && stored.routes === null && (await repairEvent(deps, eventId, channels, now)) !== null) stored = await deps.store.getEvent(eventId);
    if (!stored?.routes) continue;
    const key = orderingKey(stored.event);
    const seq = sequenceKey(stored.event.at, stored.ordinal, eventId);
    for (const r of stored.routes) if (r.action === 'send') refs.push({ channelId: r.channelId, key, seq });
  }
  return refs;
}

/** The earliest due item of each FIFO among the entries (later ones wait for it anyway). */
function candidates(entries: readonly Ref[]): Ref[] {
  const first = new Map<string, Ref>();
  for (const e of entries) {
    const q = `${e.channelId} ${e.key}`;
    const cur = first.get(q);
    if (!cur || e.seq < cur.seq) first.set(q, { channelId: e.channelId, key: e.key, seq: e.seq });
  }
  return [...first.values()];
}

/** One pass of the delivery worker at `now` (see the top of this file). */
export async function deliverDue(deps: DeliverDeps, now: Date, opts: DeliverDueOptions = {}): Promise<DeliverDueResult> {
  const result: DeliverDueResult = { repaired: 0, attempted: 0, delivered: 0, retried: 0, dead: 0, deferred: 0, nextWakeAt: null };
  const entries = await deps.store.dueEntries(now.toISOString(), opts.limit ?? 200);
  if (entries.length > 0 || opts.events?.length) {
    const all = await deps.store.allChannels();
    const pass: Pass = { deps, opts, channels: new Map(all.map((c) => [c.channelId, c])), tally: new Map(), result };
    for (const e of entries) {
      if (e.kind === 'event' && (await repairEvent(deps, e.eventId, all, now)) !== null) result.repaired++;
    }
    const hinted = opts.events?.length ? await hintedRefs(deps, opts.events, all, now) : [];
    const due = entries.flatMap((e) => (e.kind === 'delivery' ? [{ channelId: e.channelId, key: e.key, seq: e.seq }] : []));
    await mapLimit(candidates([...due, ...hinted]), opts.concurrency ?? 8, (ref) => handleDelivery(pass, ref));
    for (const [channelId, t] of pass.tally) {
      if (t.last) await deps.store.recordDeliveryResults(channelId, { lastDelivery: t.last, dead: t.dead, lastDead: t.lastDead });
    }
  }
  const next = await deps.store.earliestDue();
  result.nextWakeAt = next ? new Date(next) : null;
  return result;
}
