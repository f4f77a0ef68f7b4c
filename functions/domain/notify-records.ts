// The records of notifications as plain data, shared by the rules that decide
// (functions/notify/) and the store that keeps them (functions/store/notify-types.ts extends
// them with what only the store needs).
import type { ChannelKind, EventType, LastDelivery } from '../../protocol/events.ts';

/** A channel as the notification rules see it. */
export interface ChannelRecord {
  channelId: string;
  kind: ChannelKind;
  url: string;
  secret: string | null;
  events: EventType[] | null;
  instanceTreeId: string | null;
  createdAt: string;
  updatedAt: string;
  lastDelivery: LastDelivery | null;
}

/** A queued delivery of one event to one channel. */
export interface PendingDelivery {
  channelId: string;
  /** orderingKey(event). */
  key: string;
  /** Order within (channel, key), compared as strings: sequenceKey(). */
  seq: string;
  eventId: string;
  /** Failed attempts so far. */
  attempts: number;
  firstFailureAt: string | null;
  /** Not to be tried before this (ISO). */
  nextAttemptAt: string;
  /** Someone is delivering it until then (ISO); null/absent: free. */
  leasedUntil?: string | null;
}
