// From recorded changes to events, pure (the clock and every input are passed in). The
// master calls these where it records a change (report, bang, fan-out, sweep) and writes
// the events they return to its outbox; docs/notifications.md explains the rules.
//
// Partitions: receivers are told when what they were last told (`announced`) differs from
// the partition's colour and nothing holds the news back. Held back (recorded, not sent):
//   - while the partition flaps (only flapping.started / flapping.stopped are sent),
//   - while a bang fan-out it received is in progress (bang.accepted stands for it),
//   - while its computer is orange or red (computer.colour stands for it),
//   - while a silence matches.
// A change back to the colour receivers already know is recorded, not sent; a colour that
// was held back is told at the first observation after the hold ends (e.g. a partition
// still red when its computer came back, or when a silence ended). Receivers never told
// anything about a partition take it to be green (no news is good news): a new partition's
// first OK report sends nothing, its first failing report sends a red event.
import type { BangSource, Colour } from '../../protocol/index.ts';
import {
  EVENT_LIST_CAP,
  type EventOf,
  type SilencedMark,
  type SuppressedMark,
  type VigilEvent,
} from '../../protocol/events.ts';
import { quotaDay } from '../../protocol/quota.ts';
import { type FlapState, type FlapTransition, flapThreshold, observeState } from '../domain/flapping.ts';
import type { PartitionNotifyState } from '../domain/records.ts';
import { type SilenceRecord, pickSilence } from '../domain/silences.ts';
import { bangAcceptedEventId, bangRejectedEventId, computerColourEventId, flappingEventId, partitionColourEventId } from './event-id.ts';
import { dashboardLink } from './links.ts';

export type { PartitionNotifyState } from '../domain/records.ts';
export { initialPartitionNotifyState } from '../domain/records.ts';

export interface ColourAfter {
  colour: Colour;
  reason: string;
  /** colourSince as stored by the write that recorded this observation. */
  since: string;
}

export interface PartitionObservation {
  partition: { partitionId: string; computerId: string; instanceTreeId: string };
  /** The colour the partition had before this observation (views.colourBefore). */
  before: Colour;
  after: ColourAfter;
  /** When the master recorded the observation (its clock, ISO). */
  at: string;
  state: PartitionNotifyState;
  /** Colour of the partition's computer at `at`. */
  computerColour: Colour;
  /**
   * The bang whose fan-out is in progress on this partition after this observation (its
   * reprocess flag is set and not yet acknowledged by a report), else null.
   */
  bangInProgress: string | null;
  /** Silences that may match (the master may pass only those active at `at`). */
  silences: readonly SilenceRecord[];
  /** The master's public URL, for dashboard links. */
  baseUrl: string;
}

export interface PartitionObserved {
  /** In the order they must be delivered. Marked events are recorded, not sent. */
  events: VigilEvent[];
  state: PartitionNotifyState;
  /** What the flap detector did (for logs and metrics). */
  flap: { transition: FlapTransition; percent: number | null };
}

/** Is this event to be sent (no silence, no suppression)? */
export function isSendable(event: Pick<VigilEvent, 'silenced' | 'suppressed'>): boolean {
  return event.silenced === undefined && event.suppressed === undefined;
}

function silenceMark(silences: readonly SilenceRecord[], subject: { computerId?: string; partitionId?: string; instanceTreeId?: string }, at: string): SilencedMark | undefined {
  const s = pickSilence(silences, subject, new Date(at));
  return s ? { silenceId: s.silenceId, reason: s.reason } : undefined;
}

function markKey(e: { silenced?: SilencedMark; suppressed?: SuppressedMark }): string {
  if (e.suppressed) return `suppressed:${e.suppressed.by}:${e.suppressed.id}`;
  if (e.silenced) return `silenced:${e.silenced.silenceId}`;
  return '';
}

/**
 * One observation of a partition's colour (a report, a colour change recorded by the sweep,
 * a bang or a fan-out, or a flap sample of the sweep): the events it gives and the new state.
 */
export function observePartition(o: PartitionObservation): PartitionObserved {
  const { partitionId, computerId, instanceTreeId } = o.partition;
  const subject = { computerId, partitionId, instanceTreeId };
  const link = dashboardLink(o.baseUrl, { kind: 'partition', partitionId });
  const events: VigilEvent[] = [];
  let announced = o.state.announced;

  // Flap detection: every observation is a recorded state, except those of a bang fan-out
  // (a tree healed on request is not a flapping partition).
  let flap: { state: FlapState; transition: FlapTransition; percent: number | null } = {
    state: { history: o.state.flapHistory, flapping: o.state.flapping },
    transition: null,
    percent: null,
  };
  let sampledAt = o.state.sampledAt;
  if (o.bangInProgress === null) {
    flap = observeState(flap.state, o.after.colour);
    sampledAt = o.at;
  }
  const flappingEvent = (type: 'flapping.started' | 'flapping.stopped'): void => {
    const silenced = silenceMark(o.silences, subject, o.at);
    const ev: EventOf<typeof type> = {
      eventId: flappingEventId(type, partitionId, o.at),
      type,
      at: o.at,
      computerId,
      partitionId,
      instanceTreeId,
      link,
      data: {
        percentStateChange: flap.percent ?? 0,
        threshold: flapThreshold(type === 'flapping.started' ? 'started' : 'stopped'),
        colour: o.after.colour,
        reason: o.after.reason,
      },
      ...(silenced ? { silenced } : {}),
    };
    events.push(ev);
    if (!silenced) announced = o.after.colour;
  };

  if (flap.transition === 'started') flappingEvent('flapping.started');

  const holdBack: SuppressedMark | undefined =
    flap.state.flapping || flap.transition === 'stopped'
      ? { by: 'flapping', id: partitionId }
      : o.bangInProgress !== null
        ? { by: 'bang', id: o.bangInProgress }
        : o.computerColour !== 'green'
          ? { by: 'computer', id: computerId }
          : undefined;
  const changed = o.before !== o.after.colour;
  const colourEvent = (from: Colour, marks: { silenced?: SilencedMark; suppressed?: SuppressedMark }): EventOf<'partition.colour'> => ({
    eventId: partitionColourEventId(partitionId, from, o.after.colour, o.after.since, markKey(marks)),
    type: 'partition.colour',
    at: o.at,
    computerId,
    partitionId,
    instanceTreeId,
    link,
    data: { from, to: o.after.colour, reason: o.after.reason, since: new Date(o.after.since).toISOString() },
    ...marks,
  });

  const silenced = silenceMark(o.silences, subject, o.at);
  // Receivers never told anything take the partition to be fine.
  const known = (): Colour => announced ?? 'green';
  if (changed) {
    // Every recorded change has its event; only some are sent.
    const suppressed: SuppressedMark | undefined =
      holdBack ?? (o.after.colour === known() ? { by: 'announced', id: partitionId } : undefined);
    const from = suppressed ? o.before : known();
    events.push(colourEvent(from, { ...(silenced ? { silenced } : {}), ...(suppressed ? { suppressed } : {}) }));
    if (!suppressed && !silenced) announced = o.after.colour;
  } else if (!holdBack && !silenced && o.after.colour !== known()) {
    // No change now, but receivers were kept from the current colour: tell it now.
    events.push(colourEvent(known(), {}));
    announced = o.after.colour;
  }

  if (flap.transition === 'stopped') flappingEvent('flapping.stopped');

  return {
    events,
    state: { flapHistory: flap.state.history, flapping: flap.state.flapping, sampledAt, announced },
    flap: { transition: flap.transition, percent: flap.percent },
  };
}

export interface ComputerObservation {
  computerId: string;
  before: Colour;
  after: ColourAfter;
  at: string;
  /** Every partition of the computer with its colour at `at` (listed up to EVENT_LIST_CAP). */
  partitions: readonly { partitionId: string; instanceTreeId: string; colour: Colour }[];
  silences: readonly SilenceRecord[];
  baseUrl: string;
  /**
   * The computer's first contact (red, "never contacted", to green): recorded, not sent —
   * receivers never told anything about a computer take it to be fine, as for partitions.
   */
  firstContact?: boolean;
}

/** A recorded computer colour change gives one event (null when the colour did not change). */
export function observeComputer(o: ComputerObservation): EventOf<'computer.colour'> | null {
  if (o.before === o.after.colour) return null;
  const parts = [...o.partitions].sort((a, b) => (a.partitionId < b.partitionId ? -1 : a.partitionId > b.partitionId ? 1 : 0));
  const trees = [...new Set(parts.map((p) => p.instanceTreeId))].sort();
  const silenced = silenceMark(o.silences, { computerId: o.computerId }, o.at);
  const since = new Date(o.after.since).toISOString();
  return {
    eventId: computerColourEventId(o.computerId, o.after.colour, since),
    type: 'computer.colour',
    at: o.at,
    computerId: o.computerId,
    link: dashboardLink(o.baseUrl, { kind: 'computer', computerId: o.computerId }),
    data: {
      from: o.before,
      to: o.after.colour,
      reason: o.after.reason,
      since,
      partitions: parts.slice(0, EVENT_LIST_CAP).map((p) => ({ partitionId: p.partitionId, instanceTreeId: p.instanceTreeId, colour: p.colour })),
      partitionCount: parts.length,
      instanceTreeIds: trees.slice(0, EVENT_LIST_CAP),
      instanceTreeCount: trees.length,
    },
    ...(silenced ? { silenced } : {}),
    ...(o.firstContact ? { suppressed: { by: 'announced' as const, id: o.computerId } } : {}),
  };
}

export interface BangFacts {
  bangId: string;
  partitionId: string;
  computerId: string;
  instanceTreeId: string;
  source: BangSource;
  message: string;
}

/**
 * One event per accepted bang, listing the tree's partitions (first EVENT_LIST_CAP by id of
 * those given, plus the count). `partitionIds` may be just the first page of the tree.
 */
export function bangAcceptedEvent(o: {
  bang: BangFacts;
  fannedOutTo: number;
  partitionIds: readonly string[];
  partitionCount: number;
  at: string;
  silences: readonly SilenceRecord[];
  baseUrl: string;
}): EventOf<'bang.accepted'> {
  const { bang } = o;
  const silenced = silenceMark(o.silences, bang, o.at);
  return {
    eventId: bangAcceptedEventId(bang.partitionId, bang.bangId),
    type: 'bang.accepted',
    at: o.at,
    computerId: bang.computerId,
    partitionId: bang.partitionId,
    instanceTreeId: bang.instanceTreeId,
    link: dashboardLink(o.baseUrl, { kind: 'tree', instanceTreeId: bang.instanceTreeId }),
    data: {
      bangId: bang.bangId,
      source: bang.source,
      message: bang.message,
      fannedOutTo: o.fannedOutTo,
      partitions: [...o.partitionIds].sort().slice(0, EVENT_LIST_CAP),
      partitionCount: Math.max(o.partitionCount, o.partitionIds.length),
    },
    ...(silenced ? { silenced } : {}),
  };
}

export function bangRejectedEvent(o: {
  bang: BangFacts;
  quotaPerDay: number;
  /** When the quota resets (start of the next UTC day). */
  retryAfter: string;
  at: string;
  silences: readonly SilenceRecord[];
  baseUrl: string;
}): EventOf<'bang.rejected'> {
  const { bang } = o;
  const silenced = silenceMark(o.silences, bang, o.at);
  return {
    eventId: bangRejectedEventId(bang.partitionId, bang.bangId, quotaDay(new Date(o.at))),
    type: 'bang.rejected',
    at: o.at,
    computerId: bang.computerId,
    partitionId: bang.partitionId,
    instanceTreeId: bang.instanceTreeId,
    link: dashboardLink(o.baseUrl, { kind: 'partition', partitionId: bang.partitionId }),
    data: {
      bangId: bang.bangId,
      source: bang.source,
      message: bang.message,
      quotaPerDay: o.quotaPerDay,
      retryAfter: new Date(o.retryAfter).toISOString(),
    },
    ...(silenced ? { silenced } : {}),
  };
}
