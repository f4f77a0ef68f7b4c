// Delivery queues, as rules over plain arrays (the master stores the items; these decide).
// One FIFO per (channel, ordering key): the events of one partition reach a channel in the
// order they were recorded; a later event of the key waits until the earlier one is
// delivered or dead. Different keys (and channels) never wait for each other.
import type { LastDelivery, VigilEvent } from '../../protocol/events.ts';
import type { PendingDelivery } from '../domain/notify-records.ts';
import { nextAttemptAt } from './backoff.ts';
import type { DeliveryOutcome } from './deliver.ts';

export type { PendingDelivery };

/**
 * The FIFO an event belongs to: its partition (colour, flapping and bang events of one
 * partition share it), else its computer.
 */
export function orderingKey(event: { eventId: string; partitionId?: string; computerId?: string; instanceTreeId?: string }): string {
  if (event.partitionId) return `p:${event.partitionId}`;
  if (event.computerId) return `c:${event.computerId}`;
  if (event.instanceTreeId) return `t:${event.instanceTreeId}`;
  return `e:${event.eventId}`;
}

/**
 * The order of an event within its key: when it was recorded (ISO, master clock, fixed
 * width so string order is time order), then its position among the events one
 * observation produced (derive.ts returns them in order), then its id.
 */
export function sequenceKey(at: string, ordinal: number, eventId: string): string {
  return `${new Date(at).toISOString()}#${String(Math.max(0, Math.floor(ordinal))).padStart(4, '0')}#${eventId}`;
}

/** A new queue item for an event a channel must receive; first attempt at once. */
export function newDelivery(channelId: string, event: VigilEvent, ordinal: number, now: Date): PendingDelivery {
  return {
    channelId,
    key: orderingKey(event),
    seq: sequenceKey(event.at, ordinal, event.eventId),
    eventId: event.eventId,
    attempts: 0,
    firstFailureAt: null,
    nextAttemptAt: now.toISOString(),
    leasedUntil: null,
  };
}

const queueId = (d: Pick<PendingDelivery, 'channelId' | 'key'>): string => JSON.stringify([d.channelId, d.key]);

/** The first item of every (channel, key) queue. */
export function heads<D extends PendingDelivery>(pending: readonly D[]): D[] {
  const first = new Map<string, D>();
  for (const d of pending) {
    const q = queueId(d);
    const cur = first.get(q);
    if (!cur || d.seq < cur.seq) first.set(q, d);
  }
  return [...first.values()];
}

const ms = (iso: string): number => Date.parse(iso);
const free = (d: PendingDelivery, now: number): boolean => !d.leasedUntil || ms(d.leasedUntil) <= now;

/**
 * What may be attempted now: the head of each queue, if its time has come and nobody holds
 * it; earliest first (then by seq), at most `limit`. Never a later item of a key while an
 * earlier one is still pending, however late or leased that one is.
 */
export function eligible<D extends PendingDelivery>(pending: readonly D[], now: Date, limit = Number.POSITIVE_INFINITY): D[] {
  const t = now.getTime();
  return heads(pending)
    .filter((d) => ms(d.nextAttemptAt) <= t && free(d, t))
    .sort((a, b) => ms(a.nextAttemptAt) - ms(b.nextAttemptAt) || (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
    .slice(0, limit);
}

/** When something next becomes eligible (null: nothing pending), for a delivery timer. */
export function nextWakeAt(pending: readonly PendingDelivery[]): Date | null {
  let best: number | null = null;
  for (const d of heads(pending)) {
    const t = Math.max(ms(d.nextAttemptAt), d.leasedUntil ? ms(d.leasedUntil) : 0);
    if (best === null || t < best) best = t;
  }
  return best === null ? null : new Date(best);
}

/** Events waiting for a channel (GET /v1/channels/{id} `backlog`). */
export function backlogOf(pending: readonly PendingDelivery[], channelId: string): number {
  return pending.filter((d) => d.channelId === channelId).length;
}

/** One delivery attempt is held this long (the delivery timeout plus a margin). */
export const DELIVERY_LEASE_MS = 60_000;

export function lease<D extends PendingDelivery>(d: D, now: Date, leaseMs = DELIVERY_LEASE_MS): D {
  return { ...d, leasedUntil: new Date(now.getTime() + leaseMs).toISOString() };
}

export type AfterAttempt<D extends PendingDelivery> =
  /** Delivered, or dead (refused, or retried until the give-up time): off the queue. */
  | { action: 'remove'; dead: boolean; lastDelivery: LastDelivery }
  /** Stays at the head of its queue, to be tried again at `item.nextAttemptAt`. */
  | { action: 'reschedule'; item: D; lastDelivery: LastDelivery };

/** What to do with a queue item after one attempt. */
export function afterAttempt<D extends PendingDelivery>(
  d: D,
  outcome: DeliveryOutcome,
  now: Date,
  random: () => number = Math.random,
): AfterAttempt<D> {
  const at = now.toISOString();
  const status = outcome.status !== undefined ? { status: outcome.status } : {};
  if (outcome.result === 'delivered') {
    return { action: 'remove', dead: false, lastDelivery: { at, eventId: d.eventId, ok: true, ...status } };
  }
  if (outcome.result === 'dead') {
    return { action: 'remove', dead: true, lastDelivery: { at, eventId: d.eventId, ok: false, ...status, error: outcome.error } };
  }
  const attempts = d.attempts + 1;
  const firstFailureAt = d.firstFailureAt ?? at;
  const next = nextAttemptAt(attempts, new Date(firstFailureAt), now, outcome.retryAfter, random);
  if (next === null) {
    return {
      action: 'remove',
      dead: true,
      lastDelivery: { at, eventId: d.eventId, ok: false, ...status, error: `gave up after ${attempts} attempts since ${firstFailureAt}: ${outcome.error}` },
    };
  }
  return {
    action: 'reschedule',
    item: { ...d, attempts, firstFailureAt, nextAttemptAt: next.toISOString(), leasedUntil: null },
    lastDelivery: { at, eventId: d.eventId, ok: false, ...status, error: outcome.error },
  };
}
