// Events from recorded colour changes (SPEC §3 "Notifications"; docs/notifications.md
// "Events from changes"): the report, sweep and heartbeat services call these where they
// record a change. The rules are functions/notify/derive.ts; this is their I/O.
//
// Crash-safe, with single-item writes only: the events are recorded first, unrouted and
// guarded by the item whose write records the change; that write names them pending (`np`,
// conditional on the pending ids it read); then they are routed and the pending ids cleared.
//   - a crash before the write: the change is not recorded, the worker drops the events
//     (their guard's item does not hold them) after GUARDED_REPAIR_GRACE_MS;
//   - a crash after it: the worker routes them (the item holds them), or the next writer of
//     the item does before it replaces the pending ids;
//   - the same change derived twice gives the same event ids (event-id.ts): recorded once.
import type { Colour } from '../../protocol/index.ts';
import type { VigilEvent } from '../../protocol/events.ts';
import type { ColourFields, ComputerRecord, PartitionNotifyState, PartitionRecord } from '../domain/records.ts';
import type { SilenceRecord } from '../domain/silences.ts';
import { partitionVerdict } from '../domain/transitions.ts';
import { type ColourAfter, observeComputer, observePartition } from '../notify/derive.ts';
import type { EventGuard, StoredChannel } from '../store/notify-types.ts';
import { defaultLogError } from './deps.ts';
import { EVENT_TTL_SECONDS, GUARDED_REPAIR_GRACE_MS, notifyContext, type PublishDeps, routeEvent, wake } from './notify-publish.ts';

/**
 * What the event path reads, read at most once per run (a request, a sweep): the active
 * silences and the public URL, the channels.
 */
export interface NotifySession {
  context(): Promise<{ silences: SilenceRecord[]; baseUrl: string }>;
  channels(): Promise<StoredChannel[]>;
}

export function notifySession(deps: PublishDeps): NotifySession {
  let ctx: ReturnType<NotifySession['context']> | undefined;
  let channels: ReturnType<NotifySession['channels']> | undefined;
  return {
    context: () => {
      ctx ??= notifyContext(deps, deps.now());
      return ctx;
    },
    channels: () => {
      channels ??= deps.store.allChannels();
      return channels;
    },
  };
}

const epochSeconds = (ms: number) => Math.floor(ms / 1000);

/** Routes pending events an item still names (a writer that stopped before routing them). */
async function routeLeftovers(deps: PublishDeps, session: NotifySession, ids: readonly string[], now: Date): Promise<void> {
  for (const id of ids) {
    const stored = await deps.store.getEvent(id);
    if (stored && stored.routes === null) await routeEvent(deps, stored.event, stored.ordinal, await session.channels(), now);
  }
}

/**
 * Records a change with its events: the events (guarded, unrouted), then `write` (which
 * must set the given ids pending, conditional on `seenPending`), then the routing and the
 * pending ids cleared. With no event, only `write(undefined)`. false: the write's condition
 * failed (the events left behind are dropped by the worker).
 */
export async function recordWithEvents(
  deps: PublishDeps,
  session: NotifySession,
  events: readonly VigilEvent[],
  guard: EventGuard,
  seenPending: readonly string[],
  write: (pending: string[] | undefined) => Promise<boolean>,
): Promise<boolean> {
  if (events.length === 0) return write(undefined);
  const now = deps.now();
  // the write replaces the ids it read: their events are routed first
  if (seenPending.length) await routeLeftovers(deps, session, seenPending, now);
  const toRoute: { event: VigilEvent; ordinal: number }[] = [];
  const repairAt = new Date(now.getTime() + GUARDED_REPAIR_GRACE_MS).toISOString();
  for (const [ordinal, event] of events.entries()) {
    const expiresAt = epochSeconds(Math.max(Date.parse(event.at), now.getTime())) + EVENT_TTL_SECONDS;
    if (await deps.store.recordEvent(event, ordinal, now.toISOString(), repairAt, expiresAt, guard)) {
      toRoute.push({ event, ordinal });
    } else {
      // the same change derived before (a retry): finish what it left
      const stored = await deps.store.getEvent(event.eventId);
      if (stored && stored.routes === null) toRoute.push({ event: stored.event, ordinal: stored.ordinal });
    }
  }
  const ids = events.map((e) => e.eventId);
  if (!(await write(ids))) return false;
  try {
    const channels = await session.channels();
    const woken: string[] = [];
    for (const r of toRoute) if ((await routeEvent(deps, r.event, r.ordinal, channels, now)) > 0) woken.push(r.event.eventId);
    if (woken.length) await wake(deps, woken);
    await deps.store.clearNotifyPending(guard, ids);
  } catch (err) {
    // the change is recorded and names its events: the delivery worker routes them
    (deps.logError ?? defaultLogError)('vigil: routing events failed (the delivery worker will)', err);
  }
  return true;
}

export interface PartitionChange {
  /** The colour before this observation (recorded, or as the rules had it). */
  before: Colour;
  after: ColourAfter;
  /** The bang in progress on the partition after this observation (domain/reprocess.ts bangInProgress). */
  bangInProgress: string | null;
}

/**
 * One observation of a partition: its events and new notification state. Derived first as
 * if its computer were green and nothing were silenced: with no event then, there is none
 * at all and nothing is read (a report that changes nothing reads nothing more); else the
 * computer's colour and the silences are read and the events derived again.
 */
export async function observePartitionChange(
  session: NotifySession,
  p: PartitionRecord,
  change: PartitionChange,
  at: Date,
  computerColour: () => Promise<Colour>,
): Promise<{ state: PartitionNotifyState; events: VigilEvent[] }> {
  const base = { partition: p, before: change.before, after: change.after, at: at.toISOString(), state: p.notify, bangInProgress: change.bangInProgress };
  const optimistic = observePartition({ ...base, computerColour: 'green', silences: [], baseUrl: '' });
  if (optimistic.events.length === 0) return { state: optimistic.state, events: [] };
  const ctx = await session.context();
  const real = observePartition({ ...base, computerColour: await computerColour(), silences: ctx.silences, baseUrl: ctx.baseUrl });
  return { state: real.state, events: real.events };
}

/**
 * A computer's recorded colour changes (heartbeat back to green, sweep to orange or red):
 * ONE event listing its partitions and their colours (its partitions' own colour events are
 * held back while it is not green: derive.ts), recorded with the change.
 */
export async function recordComputerChange(
  deps: PublishDeps,
  session: NotifySession,
  c: Pick<ComputerRecord, 'computerId' | 'colour' | 'notifyPending' | 'assignmentVersion' | 'lastContactAt'>,
  fields: Omit<ColourFields, 'sweepAt'>,
  seenContactAt: string | null,
  at: Date,
): Promise<boolean> {
  const notify = (pending: string[] | undefined) => ({ seenColour: c.colour, seenPending: c.notifyPending, pending: pending ?? [] });
  if (fields.colour === c.colour) return deps.store.recordComputerColour(c.computerId, fields, seenContactAt, notify(undefined));
  const [partitions, ctx] = await Promise.all([deps.store.getComputerPartitions(c.computerId, c.assignmentVersion), session.context()]);
  const after: ColourAfter = { colour: fields.colour, reason: fields.colourReason, since: fields.colourSince ?? at.toISOString() };
  const event = observeComputer({
    computerId: c.computerId,
    before: c.colour,
    after,
    at: at.toISOString(),
    partitions: partitions.map((p) => ({ partitionId: p.partitionId, instanceTreeId: p.instanceTreeId, colour: partitionVerdict(p, at).colour })),
    ...ctx,
    // its first contact (the heartbeat's read of it had none)
    firstContact: c.lastContactAt === null && fields.colour === 'green',
  });
  return recordWithEvents(deps, session, event ? [event] : [], { computerId: c.computerId }, c.notifyPending, (pending) =>
    deps.store.recordComputerColour(c.computerId, fields, seenContactAt, notify(pending)),
  );
}
