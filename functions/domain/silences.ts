// Silences (SPEC §3), pure: which silence, if any, keeps an event from being sent. An event
// is judged once, at the time it is recorded (`event.at`, master clock): a silence created
// later does not recall events already queued, and one that ends does not release the events
// it held (they stay recorded, marked silenced).
import type { SilenceMatch } from '../../protocol/events.ts';

export interface SilenceRecord {
  silenceId: string;
  match: SilenceMatch;
  startsAt: string;
  endsAt: string;
  reason: string;
  /** Set when the silence was ended early (DELETE). */
  endedAt: string | null;
}

/** The ids an event concerns. */
export interface EventSubject {
  computerId?: string | undefined;
  partitionId?: string | undefined;
  instanceTreeId?: string | undefined;
}

const ms = (iso: string): number => Date.parse(iso);

/** Active iff startsAt ≤ t < endsAt and t is before the moment it was ended (if it was). */
export function silenceActive(s: Pick<SilenceRecord, 'startsAt' | 'endsAt' | 'endedAt'>, t: Date): boolean {
  const now = t.getTime();
  if (now < ms(s.startsAt) || now >= ms(s.endsAt)) return false;
  return s.endedAt === null || now < ms(s.endedAt);
}

/**
 * Does the silence's match cover the event? By computer: the computer's own events and its
 * partitions' events (maintenance of a machine). By partition: that partition's events. By
 * tree: events naming that tree (partition colour, bangs, flapping) — never a computer's
 * event, since a computer may host many trees.
 */
export function silenceCovers(match: SilenceMatch, event: EventSubject): boolean {
  if (match.computerId !== undefined) return event.computerId === match.computerId;
  if (match.partitionId !== undefined) return event.partitionId === match.partitionId;
  if (match.instanceTreeId !== undefined) return event.instanceTreeId === match.instanceTreeId;
  return false;
}

export function silenceMatches(s: SilenceRecord, event: EventSubject, t: Date): boolean {
  return silenceActive(s, t) && silenceCovers(s.match, event);
}

/**
 * The silence that holds the event among many (null: none). Several may match: the one
 * ending last wins (the most useful one to name), ties broken by silenceId, so the answer
 * does not depend on the order of the list.
 */
export function pickSilence<S extends SilenceRecord>(silences: readonly S[], event: EventSubject, t: Date): S | null {
  let best: S | null = null;
  for (const s of silences) {
    if (!silenceMatches(s, event, t)) continue;
    if (!best || effectiveEnd(s) > effectiveEnd(best) || (effectiveEnd(s) === effectiveEnd(best) && s.silenceId < best.silenceId)) best = s;
  }
  return best;
}

function effectiveEnd(s: Pick<SilenceRecord, 'endsAt' | 'endedAt'>): number {
  return s.endedAt === null ? ms(s.endsAt) : Math.min(ms(s.endsAt), ms(s.endedAt));
}

/** The wire view of a silence at `now`. */
export function silenceView<S extends SilenceRecord & { createdAt: string; updatedAt: string }>(
  s: S,
  now: Date,
): {
  silenceId: string;
  match: SilenceMatch;
  startsAt: string;
  endsAt: string;
  reason: string;
  createdAt: string;
  updatedAt: string;
  endedAt: string | null;
  active: boolean;
} {
  return {
    silenceId: s.silenceId,
    match: s.match,
    startsAt: s.startsAt,
    endsAt: s.endsAt,
    reason: s.reason,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    endedAt: s.endedAt,
    active: silenceActive(s, now),
  };
}

/**
 * A silence is no longer of use after this moment (for a TTL or for leaving it out of the
 * list of silences the event path reads).
 */
export function silenceEndsAt(s: Pick<SilenceRecord, 'endsAt' | 'endedAt'>): Date {
  return new Date(effectiveEnd(s));
}
