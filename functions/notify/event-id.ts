// Deterministic event ids: the id is a hash of the change an event describes, so deriving
// the event of the same recorded change again (a retried request, a sweep that runs twice, a
// crash between the change and the outbox write) gives the same id, and an outbox write
// keyed by it is idempotent. Receivers dedup on it (X-Vigil-Event-Id).
import { createHash } from 'node:crypto';
import type { Colour } from '../../protocol/index.ts';
import type { EventType } from '../../protocol/events.ts';

/** Bumped only if the inputs below change meaning (it would re-key every event). */
const ID_VERSION = 'vigil-event-v1';

/**
 * `ev_` + base64url(SHA-256) of the type, the entity and the parts that tell this change
 * from every other change of the same entity. The parts are JSON-encoded as one array, so
 * no choice of strings can make two different inputs collide by concatenation.
 */
export function eventId(type: EventType, entityId: string, ...parts: string[]): string {
  const digest = createHash('sha256').update(JSON.stringify([ID_VERSION, type, entityId, ...parts])).digest('base64url');
  return `ev_${digest}`;
}

/**
 * A computer's recorded colour change is told apart by its new colour and the moment that
 * colour started (`colourSince`): both are stored by the write that records the change, so
 * the id can be derived again from the stored item alone.
 */
export function computerColourEventId(computerId: string, to: Colour, since: string): string {
  return eventId('computer.colour', computerId, to, new Date(since).toISOString());
}

/**
 * A partition colour event: the change (new colour, since) plus what receivers were told
 * before (`from`) and its mark ('' when sent, else `suppressed:<by>:<id>` or
 * `silenced:<silenceId>`), so that a change recorded but held back and the later event that
 * tells the same colour have distinct ids.
 */
export function partitionColourEventId(partitionId: string, from: Colour, to: Colour, since: string, mark: string): string {
  return eventId('partition.colour', partitionId, from, to, new Date(since).toISOString(), mark);
}

/** A bang id is unique per partition (a repeated bangId is the same bang). */
export function bangAcceptedEventId(partitionId: string, bangId: string): string {
  return eventId('bang.accepted', partitionId, bangId);
}

/**
 * A rejected bang leaves its id free: the same bangId may be rejected again on another day
 * (one event per partition, bang and UTC day — a re-post the same day is the same rejection).
 */
export function bangRejectedEventId(partitionId: string, bangId: string, quotaDay: string): string {
  return eventId('bang.rejected', partitionId, bangId, quotaDay);
}

/** Flapping starts or stops with one recorded state: the time that state was recorded. */
export function flappingEventId(type: 'flapping.started' | 'flapping.stopped', partitionId: string, at: string): string {
  return eventId(type, partitionId, new Date(at).toISOString());
}
