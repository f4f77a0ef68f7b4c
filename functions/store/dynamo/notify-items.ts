// Notification items parsed into their records (channels, silences, events, deliveries), and
// the paged lists of the notification store (opaque cursors bound to their list).
import { ChannelKind, EVENT_TYPES, type EventType, LastDelivery, SilenceMatch, VigilEvent } from '../../../protocol/events.ts';
import { InvalidCursor } from '../errors.ts';
import type { DeadDelivery, NotifyPage, RouteRecord, StoredChannel, StoredDelivery, StoredEvent, StoredSilence } from '../notify-types.ts';
import type { Item, QueryInput, TableClient } from './table-client.ts';

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
    channelId: text(i.channelId),
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
    silenceId: text(i.silenceId),
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
  return {
    channelId: text(i.channelId),
    key: text(i.key),
    seq: text(i.seq),
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

// ---------------------------------------------------------------- paged lists
// A cursor is the DynamoDB key of the last item of a page (base64url JSON), checked against
// the list it was given for: the right key attributes, and the fixed values of the list's
// partition key (a cursor of another list, or of other filters, is a 400).

function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function checkCursor(cursor: string, keyAttrs: readonly string[], fixed: Record<string, string>): void {
  let k: unknown;
  try {
    k = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursor('not a cursor of this list');
  }
  if (!isObject(k)) throw new InvalidCursor('not a cursor of this list');
  const names = Object.keys(k).sort();
  if (names.join(',') !== [...keyAttrs].sort().join(',') || names.some((n) => typeof k[n] !== 'string' || (k[n] as string).length > 1024)) {
    throw new InvalidCursor('not a cursor of this list');
  }
  for (const [a, v] of Object.entries(fixed)) {
    if (k[a] !== v) throw new InvalidCursor('this cursor was given for another list or other filters: repeat the filters of the first page');
  }
}

/**
 * One Query page: its items and, when there is more, where the next starts (the table
 * client's opaque cursor). The notification store's only use of the client's paging.
 */
export async function queryOnce(table: TableClient, input: QueryInput, start?: string): Promise<{ items: Item[]; cursor?: string }> {
  return table.queryPage(input, start);
}

export interface ListSpec<T> {
  query: QueryInput;
  /** The key attributes of the Query (table keys, plus the index's). */
  keyAttrs: readonly string[];
  /** Values the list's partition key has (the cursor must have them too). */
  fixed: Record<string, string>;
  load: (entries: Item[]) => Promise<(T | null)[]>;
  accept?: ((t: T) => boolean) | undefined;
  limit: number;
  cursor?: string | undefined;
  /** Entries examined at most per page (a filter dropping most answers a short page with a cursor). */
  budget?: number;
}

/** One page of a list: Query pages, entries loaded, filtered, cut at `limit`; the cursor after the last entry examined. */
export async function listPage<T>(table: TableClient, spec: ListSpec<T>): Promise<NotifyPage<T>> {
  if (spec.cursor !== undefined) checkCursor(spec.cursor, spec.keyAttrs, spec.fixed);
  const budget = spec.budget ?? 5000;
  const items: T[] = [];
  let start = spec.cursor;
  let examined = 0;
  for (;;) {
    const want = spec.accept ? Math.min(1000, Math.max(25, (spec.limit - items.length) * 2)) : spec.limit - items.length;
    const page = await queryOnce(table, { ...spec.query, Limit: Math.max(1, Math.min(want, budget - examined)) }, start);
    const recs = await spec.load(page.items);
    for (let n = 0; n < page.items.length; n++) {
      const rec = recs[n];
      if (rec !== null && rec !== undefined && (!spec.accept || spec.accept(rec))) items.push(rec);
      examined++;
      const more = n < page.items.length - 1 || page.cursor !== undefined;
      if (items.length >= spec.limit || examined >= budget) {
        const entry = page.items[n] as Item;
        return { items, next: more ? encodeCursor(Object.fromEntries(spec.keyAttrs.map((a) => [a, entry[a]]))) : null };
      }
    }
    if (page.cursor === undefined) return { items, next: null };
    start = page.cursor;
  }
}

/** Items of index entries (strongly consistent BatchGet, 100 keys a call), in the entries' order. */
export function loadItems<T>(table: TableClient, map: (i: Item) => T | null): (entries: Item[]) => Promise<(T | null)[]> {
  return async (entries) => {
    const found = new Map<string, Item>();
    for (let i = 0; i < entries.length; i += 100) {
      const chunk = entries.slice(i, i + 100).map((e) => ({ pk: String(e.pk), sk: String(e.sk) }));
      for (const it of await table.batchGet(chunk)) found.set(`${String(it.pk)}\u0000${String(it.sk)}`, it);
    }
    return entries.map((e) => {
      const it = found.get(`${String(e.pk)}\u0000${String(e.sk)}`);
      return it ? map(it) : null;
    });
  };
}
