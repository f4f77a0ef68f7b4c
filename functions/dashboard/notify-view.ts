// What the dashboard shows of notifications (SPEC §3 "Notifications"), pure: a one-line
// summary of each recorded event, what became of it (sent, queued, held back by a silence or
// folded into another event), a silence's state at the master's clock, and which active
// silences hold the notifications of the thing a page is about.
import type { Colour } from '../../protocol/index.ts';
import type { Channel, EventType, RecordedEvent, Silence, VigilEvent } from '../../protocol/events.ts';
import { type EventSubject, silenceCovers } from '../domain/silences.ts';

/** Characters of an event's reason or bang message shown in the events table. */
export const EVENT_TEXT_SHOWN = 300;

const cut = (text: string, max = EVENT_TEXT_SHOWN): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

export const EVENT_TYPE_LABEL: Record<EventType, string> = {
  'computer.colour': 'computer colour',
  'partition.colour': 'partition colour',
  'bang.accepted': 'bang accepted',
  'bang.rejected': 'bang refused',
  'flapping.started': 'flapping started',
  'flapping.stopped': 'flapping stopped',
};

/** The colour an event leaves its subject in (for its badge), when it has one. */
export function eventColour(e: VigilEvent): Colour | null {
  switch (e.type) {
    case 'computer.colour':
    case 'partition.colour':
      return e.data.to;
    case 'flapping.started':
    case 'flapping.stopped':
      return e.data.colour;
    default:
      return null;
  }
}

/** One line: what happened (the reason or message cut to EVENT_TEXT_SHOWN characters). */
export function eventSummary(e: VigilEvent): string {
  switch (e.type) {
    case 'computer.colour': {
      const d = e.data;
      const parts = d.partitionCount > 0 ? ` (${plural(d.partitionCount, 'partition')} on it)` : '';
      return `${d.from} → ${d.to}${parts}: ${cut(d.reason)}`;
    }
    case 'partition.colour':
      return `${e.data.from} → ${e.data.to}: ${cut(e.data.reason)}`;
    case 'bang.accepted': {
      const d = e.data;
      return `${d.source} bang: ${plural(d.fannedOutTo, 'partition')} of the tree flagged for reprocess${d.message ? ` — ${cut(d.message)}` : ''}`;
    }
    case 'bang.rejected': {
      const d = e.data;
      return `${d.source} bang refused: daily quota of ${d.quotaPerDay} used, next from ${d.retryAfter}${d.message ? ` — ${cut(d.message)}` : ''}`;
    }
    case 'flapping.started':
      return `${e.data.percentStateChange} % state change (above ${e.data.threshold} %): colour events paused`;
    case 'flapping.stopped':
      return `${e.data.percentStateChange} % state change (below ${e.data.threshold} %): colour events resume`;
  }
}

export type EventStatusKind = 'sent' | 'queued' | 'dead' | 'silenced' | 'suppressed' | 'routing' | 'unsent';

/** What became of an event: held back (silence, another event standing for it) or its deliveries. */
export function eventStatus(r: RecordedEvent): { kind: EventStatusKind; text: string } {
  const { silenced, suppressed } = r.event;
  if (silenced) return { kind: 'silenced', text: `silenced by ${silenced.silenceId}: ${cut(silenced.reason, 120)}` };
  if (suppressed) {
    const by: Record<typeof suppressed.by, string> = {
      computer: `folded into computer ${suppressed.id}'s event`,
      bang: `announced by bang ${suppressed.id}`,
      flapping: `held back: partition ${suppressed.id} is flapping`,
      announced: 'back to the colour last announced',
    };
    return { kind: 'suppressed', text: `not sent: ${by[suppressed.by]}` };
  }
  if (r.deliveries === null) return { kind: 'routing', text: 'being routed to the channels' };
  const sends = r.deliveries.filter((d) => d.action === 'send');
  if (sends.length === 0) return { kind: 'unsent', text: r.deliveries.length === 0 ? 'no channel' : 'no channel takes it (filters)' };
  const count = (s: 'delivered' | 'queued' | 'dead') => sends.filter((d) => d.state === s).length;
  const [delivered, queued, dead] = [count('delivered'), count('queued'), count('dead')];
  const parts = [delivered ? `delivered to ${plural(delivered, 'channel')}` : '', queued ? `${queued} queued` : '', dead ? `${dead} dead` : ''].filter(Boolean);
  const retry = sends.find((d) => d.state === 'queued' && (d.attempts ?? 0) > 0);
  const text = parts.join(', ') + (retry?.nextAttemptAt ? ` (retry at ${retry.nextAttemptAt})` : '');
  return { kind: dead ? 'dead' : queued ? 'queued' : 'sent', text };
}

export type SilenceState = 'active' | 'scheduled' | 'ended' | 'expired';

/** A silence at the master's clock: active now, not started yet, ended early (DELETE), or past its end. */
export function silenceState(s: Silence, now: Date): SilenceState {
  if (s.active) return 'active';
  if (s.endedAt !== null && Date.parse(s.endedAt) <= now.getTime()) return 'ended';
  return now.getTime() < Date.parse(s.startsAt) ? 'scheduled' : 'expired';
}

/** What a silence matches, as a kind and an id. */
export function silenceTarget(s: Pick<Silence, 'match'>): { kind: 'computer' | 'partition' | 'tree'; id: string } {
  const m = s.match;
  if (m.computerId !== undefined) return { kind: 'computer', id: m.computerId };
  if (m.partitionId !== undefined) return { kind: 'partition', id: m.partitionId };
  return { kind: 'tree', id: m.instanceTreeId ?? '' };
}

/**
 * The active silences (one API page of them) that hold the notifications about `subject`:
 * a partition is held by a silence of itself, of its computer or of its tree; a computer by
 * its own; a tree by its own (the rules of domain/silences.ts).
 */
export function silencesHolding(active: readonly Silence[], subject: EventSubject): Silence[] {
  return active.filter((s) => s.active && silenceCovers(s.match, subject));
}

/** A channel's health in one word: its last delivery failed, deliveries died, or all is well. */
export function channelHealth(c: Channel): 'ok' | 'failing' | 'dead' | 'idle' {
  if (c.lastDelivery && !c.lastDelivery.ok) return 'failing';
  if (c.dead && c.dead.count > 0 && c.dead.last && (!c.lastDelivery || c.dead.last.at >= c.lastDelivery.at)) return 'dead';
  return c.lastDelivery ? 'ok' : 'idle';
}
