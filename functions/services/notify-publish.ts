// Publishing events (docs/notifications.md "Storage and delivery"): the outbox write, the
// routing to every channel, the delivery queue items, the worker's wake-up. Idempotent by
// event id, made of single-item conditional writes, in an order that a crash between any two
// of them loses nothing and doubles nothing:
//   1. the event item, put if absent, due for repair at recordedAt + REPAIR_GRACE_MS (it sits
//      in the notifyDue index until step 3);
//   2. one queue item per channel that takes it (deterministic key: channel, ordering key,
//      sequence of (at, ordinal, id)), put if absent;
//   3. the event marked routed (out of notifyDue), with what each channel decided.
// A publish of an event already routed writes nothing; one found unrouted (a crash, or a
// concurrent publish) does steps 2-3 again; the delivery worker does the same for unrouted
// events past the grace period (`repairEvent`, from notifyDue), so nothing waits for a caller.
import type { VigilEvent } from '../../protocol/events.ts';
import type { SilenceRecord } from '../domain/silences.ts';
import { isSendable } from '../notify/derive.ts';
import { newDelivery } from '../notify/queue-rules.ts';
import { route } from '../notify/route.ts';
import type { RouteRecord, StoredChannel, StoredDelivery } from '../store/notify-types.ts';
import { defaultLogError, type ServiceDeps } from './deps.ts';
import { BUS_CHANNEL_ID, DEFAULT_BASE_URL } from './notify-deps.ts';

/** Events are kept this long (TTL) after they were recorded. */
export const EVENT_TTL_SECONDS = 30 * 86_400;
/** An event still unrouted this long after it was recorded is routed by the delivery worker. */
export const REPAIR_GRACE_MS = 60_000;

export type PublishDeps = Pick<ServiceDeps, 'store' | 'now' | 'notify' | 'logError'>;

export interface PublishResult {
  /** Events recorded by this call. */
  recorded: number;
  /** Events that were recorded and routed before (nothing written). */
  known: number;
  /** Queue items written (channels × sendable events, the bus included). */
  queued: number;
}

const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * What deriving events needs, read once per call: the silences active at `at` (one Query of
 * the small SILENCES collection) and the public URL for links.
 */
export async function notifyContext(deps: Pick<ServiceDeps, 'store' | 'notify'>, at: Date): Promise<{ silences: SilenceRecord[]; baseUrl: string }> {
  const silences = await deps.store.silencesEndingAfter(at.toISOString());
  return { silences, baseUrl: deps.notify?.baseUrl ?? DEFAULT_BASE_URL };
}

function toStored(channelId: string, event: VigilEvent, ordinal: number, now: Date): StoredDelivery {
  const d = newDelivery(channelId, event, ordinal, now);
  return { ...d, leasedUntil: null, leaseId: null, dueAt: d.nextAttemptAt, deferrals: 0 };
}

/** Steps 2-3 for one recorded event: queue items for the channels that take it, then the mark. */
export async function routeEvent(deps: PublishDeps, event: VigilEvent, ordinal: number, channels: readonly StoredChannel[], now: Date): Promise<number> {
  const routes: RouteRecord[] = [];
  let queued = 0;
  const enqueue = async (channelId: string) => {
    if (await deps.store.enqueueDelivery(toStored(channelId, event, ordinal, now))) queued++;
  };
  for (const c of channels) {
    const r = route(event, c);
    routes.push(r.action === 'send' ? { channelId: c.channelId, action: 'send' } : { channelId: c.channelId, action: r.action, reason: r.message });
    if (r.action === 'send') await enqueue(c.channelId);
  }
  if (deps.notify?.eventBus && isSendable(event)) {
    routes.push({ channelId: BUS_CHANNEL_ID, action: 'send' });
    await enqueue(BUS_CHANNEL_ID);
  }
  await deps.store.markRouted(event.eventId, routes);
  return queued;
}

/**
 * Records events and queues them for every channel that takes them, then wakes the delivery
 * worker. Idempotent: the same events again write nothing (or finish what a crash left).
 * `events` in the order they must be delivered (their index is their ordinal among events of
 * the same time: derive.ts returns them in order).
 */
export async function publishEvents(deps: PublishDeps, events: readonly VigilEvent[]): Promise<PublishResult> {
  const result: PublishResult = { recorded: 0, known: 0, queued: 0 };
  if (events.length === 0) return result;
  const now = deps.now();
  const channels = await deps.store.allChannels();
  const woken: string[] = [];
  for (const [ordinal, event] of events.entries()) {
    const expiresAt = epochSeconds(new Date(Math.max(Date.parse(event.at), now.getTime()))) + EVENT_TTL_SECONDS;
    const repairAt = new Date(now.getTime() + REPAIR_GRACE_MS).toISOString();
    let first = { event, ordinal };
    if (await deps.store.recordEvent(event, ordinal, now.toISOString(), repairAt, expiresAt)) {
      result.recorded++;
    } else {
      const stored = await deps.store.getEvent(event.eventId);
      if (!stored || stored.routes !== null) {
        result.known++;
        continue;
      }
      // recorded but not routed: a publish that stopped half-way (or is running): finish it
      first = { event: stored.event, ordinal: stored.ordinal };
    }
    const queued = await routeEvent(deps, first.event, first.ordinal, channels, now);
    result.queued += queued;
    if (queued > 0) woken.push(event.eventId);
  }
  if (woken.length > 0) await wake(deps, woken);
  return result;
}

async function wake(deps: PublishDeps, eventIds: string[]): Promise<void> {
  try {
    await deps.notify?.wake?.(eventIds);
  } catch (err) {
    // the worker's own schedule (a minute in the cloud) delivers them anyway
    (deps.logError ?? defaultLogError)('vigil: waking the delivery worker failed', err);
  }
}

/** Routes an event the notifyDue index shows unrouted past its grace period (a crash between writes). */
export async function repairEvent(deps: PublishDeps, eventId: string, channels: readonly StoredChannel[], now: Date): Promise<number | null> {
  const stored = await deps.store.getEvent(eventId);
  if (!stored || stored.routes !== null) return null;
  return routeEvent(deps, stored.event, stored.ordinal, channels, now);
}

/**
 * Routes every event recorded but left unrouted (past the grace period) — what the delivery
 * worker does at each pass; for callers that want it alone (tests, a start-up check).
 */
export async function publishPending(deps: PublishDeps, limit = 100): Promise<number> {
  const now = deps.now();
  const due = (await deps.store.dueEntries(now.toISOString(), limit)).filter((e) => e.kind === 'event');
  if (due.length === 0) return 0;
  const channels = await deps.store.allChannels();
  let repaired = 0;
  for (const e of due) if (e.kind === 'event' && (await repairEvent(deps, e.eventId, channels, now)) !== null) repaired++;
  return repaired;
}
