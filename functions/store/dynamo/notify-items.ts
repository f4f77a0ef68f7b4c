// Notification items parsed into their records (channels, silences, events, deliveries). Ids
// that are in an item's keys are not repeated in its attributes (as in the v2 layout).
import { ChannelKind, EVENT_TYPES, type EventType, LastDelivery, SilenceMatch, VigilEvent } from '../../../protocol/events.ts';
import { notifyKeys } from '../table.ts';
import type { DeadDelivery, RouteRecord, StoredChannel, StoredDelivery, StoredEvent, StoredSilence } from '../notify-types.ts';
import type { Item } from './table-client.ts';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const textOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function deadFromItem(v: unknown): DeadDelivery | null {
  return isObject(v) ? { at: text(v.at), eventId: text(v.eventId), error: text(v.error) } : null;
}

export function channelFromItem(i: Item): StoredChannel {
  const kind = ChannelKind.safeParse(i.kind);
  const last = LastDelivery.safeParse(i.lastDelivery);
  return {
    channelId: text(i.sk),
    kind: kind.success ? kind.data : 'webhook',
    url: text(i.url),
    secret: textOrNull(i.secret),
    events: Array.isArray(i.events) ? i.events.filter((t): t is EventType => (EVENT_TYPES as readonly unknown[]).includes(t)) : null,
    instanceTreeId: textOrNull(i.instanceTreeId),
    createdAt: text(i.createdAt),
    updatedAt: text(i.updatedAt),
    lastDelivery: last.success ? last.data : null,
    deadCount: num(i.deadCount),
    lastDead: deadFromItem(i.lastDead),
  };
}

export function silenceFromItem(i: Item): StoredSilence {
  const match = SilenceMatch.safeParse(i.match);
  return {
    silenceId: text(i.sk),
    // an unreadable match matches nothing (a partition id no partition has)
    match: match.success ? match.data : { partitionId: '-' },
    startsAt: text(i.startsAt),
    endsAt: text(i.endsAt),
    reason: text(i.reason),
    endedAt: textOrNull(i.endedAt),
    createdAt: text(i.createdAt),
    updatedAt: text(i.updatedAt),
  };
}

function routesFromItem(v: unknown): RouteRecord[] | null {
  if (!Array.isArray(v)) return null;
  return v.filter(isObject).map((r) => ({
    channelId: text(r.channelId),
    action: r.action === 'skip' || r.action === 'record-only' ? r.action : 'send',
    ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
  }));
}

/** An event item (null when its body is not an event: never written by this master). */
export function eventFromItem(i: Item): StoredEvent | null {
  let body: unknown;
  try {
    body = JSON.parse(text(i.body));
  } catch {
    return null;
  }
  const event = VigilEvent.safeParse(body);
  if (!event.success) return null;
  return { event: event.data, routes: routesFromItem(i.routes), recordedAt: text(i.recordedAt), ordinal: num(i.ordinal) };
}

export function deliveryFromItem(i: Item): StoredDelivery {
  const ref = notifyKeys.deliveryRef(i.pk, i.sk) ?? { channelId: '', key: '', seq: '' };
  return {
    ...ref,
    eventId: text(i.eventId),
    attempts: num(i.attempts),
    firstFailureAt: textOrNull(i.firstFailureAt),
    nextAttemptAt: text(i.nextAttemptAt),
    leasedUntil: textOrNull(i.leasedUntil),
    leaseId: textOrNull(i.leaseId),
    dueAt: textOrNull(i.dd),
    deferrals: num(i.deferrals),
  };
}
