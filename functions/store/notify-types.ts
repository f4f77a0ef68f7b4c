// The store interface of notifications (SPEC §3 "Notifications", docs/notifications.md
// "Storage"): channels, silences, the event outbox and the delivery queues. Records are plain
// data (structurally the records of functions/notify/ and functions/domain/silences.ts).
import type { EventType, LastDelivery, VigilEvent } from '../../protocol/events.ts';
import type { ChannelRecord, PendingDelivery } from '../domain/notify-records.ts';
import type { SilenceRecord } from '../domain/silences.ts';
import type { ListRequest, Page } from './types.ts';


/** A dead delivery, as the channel remembers the last one. */
export interface DeadDelivery {
  at: string;
  eventId: string;
  error: string;
}

/** A channel as stored: the rules' record (domain/notify-records.ts) and its dead deliveries. */
export interface StoredChannel extends ChannelRecord {
  /** Deliveries that died (refused, or given up) since the channel was created. */
  deadCount: number;
  lastDead: DeadDelivery | null;
}

/** A silence as stored: the domain's record (domain/silences.ts) and its times. */
export interface StoredSilence extends SilenceRecord {
  createdAt: string;
  updatedAt: string;
}

/** What publishing decided for one channel (kept on the event item). */
export interface RouteRecord {
  channelId: string;
  action: 'send' | 'skip' | 'record-only';
  reason?: string | undefined;
}

/**
 * The item whose write records the change an event tells (a partition, or a computer): the
 * event is routed only once that write holds its id among the item's pending events, and
 * dropped when it never did (the write failed: no change, no event).
 */
export interface EventGuard {
  computerId: string;
  /** Set for a partition's item. */
  partitionId?: string | undefined;
}

export interface StoredEvent {
  event: VigilEvent;
  /** Set for an event recorded before its change (docs/notifications.md "Events from changes"). */
  guard: EventGuard | null;
  /** Set once the event was routed to every channel (its queue items written). */
  routes: RouteRecord[] | null;
  /** When publishing started (master clock). */
  recordedAt: string;
  /** Its position among the events published with it (part of its queue items' sequence). */
  ordinal: number;
}

/** A queued delivery of one event to one channel (queue-rules.ts PendingDelivery + lease owner). */
export interface StoredDelivery extends PendingDelivery {
  leasedUntil: string | null;
  /** Who holds the lease (a random id per attempt). */
  leaseId: string | null;
  /** When it is due in the notifyDue index (null: not in it). */
  dueAt: string | null;
  /** Times it was put back to sleep behind its FIFO's head (each sleep is longer). */
  deferrals: number;
}

/** `${channelId} ${key} ${seq}`: a delivery's identity as a map key. */
export const deliveryRefKey = (r: { channelId: string; key: string; seq: string }): string => `${r.channelId} ${r.key} ${r.seq}`;

/** An entry of the notifyDue index. */
export type DueEntry =
  | { kind: 'delivery'; channelId: string; key: string; seq: string; dueAt: string }
  | { kind: 'event'; eventId: string; dueAt: string };

export interface EventFilter {
  partitionId?: string | undefined;
  computerId?: string | undefined;
  type?: EventType | undefined;
}

export interface ChannelStore {
  getChannel(channelId: string): Promise<StoredChannel | null>;
  /**
   * Writes the channel: `expectedUpdatedAt` null = create (false when it exists), else
   * replace the one read with that updatedAt (false when it changed meanwhile). Delivery
   * results (lastDelivery, dead count) are kept.
   */
  putChannel(c: StoredChannel, expectedUpdatedAt: string | null): Promise<boolean>;
  /** false when there was none. */
  deleteChannel(channelId: string): Promise<boolean>;
  listChannels(page: ListRequest<StoredChannel>): Promise<Page<StoredChannel>>;
  /** Every channel (the event path and the delivery worker; channels are few). */
  allChannels(): Promise<StoredChannel[]>;
  /** The outcome of attempts: the last one, and dead deliveries (count added, the last kept). */
  recordDeliveryResults(channelId: string, r: { lastDelivery: LastDelivery; dead: number; lastDead: DeadDelivery | null }): Promise<void>;
}

export interface SilenceStore {
  getSilence(silenceId: string): Promise<StoredSilence | null>;
  /** Creates or replaces; `expiresAt` (epoch s) is when it may be forgotten. */
  putSilence(s: StoredSilence, expiresAt: number): Promise<void>;
  /** Sets endedAt if it is not ended yet; the silence as it is now (null: none). */
  endSilence(silenceId: string, at: string, expiresAt: number): Promise<StoredSilence | null>;
  listSilences(page: ListRequest<StoredSilence> & { activeAt?: string | undefined }): Promise<Page<StoredSilence>>;
  /** Silences whose end is after `at` (one Query of a small collection). */
  silencesEndingAfter(at: string): Promise<StoredSilence[]>;
}

export interface EventStore {
  /**
   * Records the event (conditional put on its id) as not yet routed, due for repair at
   * `repairAt`. false: it was recorded before (nothing written).
   */
  recordEvent(event: VigilEvent, ordinal: number, recordedAt: string, repairAt: string, expiresAt: number, guard?: EventGuard): Promise<boolean>;
  /** Deletes an event that was never routed (its change was not recorded); false: routed, or gone. */
  dropEvent(eventId: string): Promise<boolean>;
  /** The pending event ids of a guard's item (strongly consistent; null: no such item). */
  notifyPendingOf(guard: EventGuard): Promise<string[] | null>;
  /** Clears the item's pending events if they are still `ids` (routed: nothing left to repair). */
  clearNotifyPending(guard: EventGuard, ids: readonly string[]): Promise<void>;
  getEvent(eventId: string): Promise<StoredEvent | null>;
  /** Marks the event routed (out of the repair index), with what was decided per channel. */
  markRouted(eventId: string, routes: RouteRecord[]): Promise<void>;
  /** Newest first. */
  listEvents(filter: EventFilter & ListRequest<StoredEvent>): Promise<Page<StoredEvent>>;
  /** Dead deliveries of these events: `${eventId} ${channelId}` keys. */
  deadDeliveriesOf(pairs: { eventId: string; channelId: string }[]): Promise<Set<string>>;
  recordDeadDelivery(eventId: string, channelId: string, d: DeadDelivery, expiresAt: number): Promise<void>;
}

export interface DeliveryStore {
  /** Conditional put (false: the same delivery is queued already). Due at once. */
  enqueueDelivery(d: StoredDelivery): Promise<boolean>;
  getDelivery(channelId: string, key: string, seq: string): Promise<StoredDelivery | null>;
  /** The notifyDue entries due at or before `now`, earliest first. */
  dueEntries(now: string, limit: number): Promise<DueEntry[]>;
  /** The first `n` items of a FIFO (strongly consistent). */
  fifoHead(channelId: string, key: string, n: number): Promise<StoredDelivery[]>;
  /** Conditional: the item exists, is not leased at `now`, and is due. The leased item, or null. */
  leaseDelivery(channelId: string, key: string, seq: string, now: string, until: string, leaseId: string): Promise<StoredDelivery | null>;
  /** When the earliest entry of the notifyDue index is due (null: none). */
  earliestDue(): Promise<string | null>;
  /** Releases a lease without an attempt, due again at `dueAt`. Conditional on the lease. */
  releaseDelivery(d: StoredDelivery, dueAt: string): Promise<boolean>;
  /**
   * Puts an item that is not its FIFO's head back to sleep until `dueAt` (deferrals + 1).
   * Conditional on the lease, and refused (false) when it was promoted meanwhile.
   */
  deferDelivery(d: StoredDelivery, dueAt: string): Promise<boolean>;
  /** Makes an item due at `dueAt` for good (its predecessor is being removed). */
  promoteDelivery(channelId: string, key: string, seq: string, dueAt: string): Promise<void>;
  /** After a failed attempt: attempts, first failure, next attempt (= due), lease released. Conditional on the lease. */
  rescheduleDelivery(d: StoredDelivery): Promise<boolean>;
  /** Delivered or dead: off the queue. */
  removeDelivery(channelId: string, key: string, seq: string): Promise<void>;
  /** How many deliveries wait for the channel. */
  countDeliveries(channelId: string): Promise<number>;
  /** Which of these deliveries are queued: `${channelId} ${key} ${seq}` keys. */
  queuedDeliveries(refs: { channelId: string; key: string; seq: string }[]): Promise<Map<string, StoredDelivery>>;
  /** Drops a channel's queue; the number of items removed. */
  dropDeliveries(channelId: string): Promise<number>;
}

export interface NotifyStore extends ChannelStore, SilenceStore, EventStore, DeliveryStore {}
