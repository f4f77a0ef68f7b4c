// The notify queue's message (cloud): "deliveries were queued, run a pass". The events it
// names are informative (logs); the pass reads the table. A body that is not such a message
// never becomes one: the notify function fails it, and the queue dead-letters it after
// NOTIFY_MAX_RECEIVES receives.
import { z } from 'zod';
import { EventId } from '../../protocol/events.ts';

/** Receives of a wake message before the queue moves it to its dead-letter queue. */
export const NOTIFY_MAX_RECEIVES = 5;

export const NotifyWakeMessage = z.object({
  v: z.literal(1),
  /** Events published (at most 10 named), or none for a timed wake-up of the worker itself. */
  events: z.array(EventId).max(10),
});
export type NotifyWakeMessage = z.infer<typeof NotifyWakeMessage>;

export class MalformedWakeMessage extends Error {
  override readonly name = 'MalformedWakeMessage';
}

export function parseWakeMessage(body: string): NotifyWakeMessage {
  try {
    return NotifyWakeMessage.parse(JSON.parse(body));
  } catch (err) {
    throw new MalformedWakeMessage(`malformed notify message: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export const wakeMessage = (eventIds: readonly string[]): NotifyWakeMessage => ({ v: 1, events: eventIds.slice(0, 10) });
