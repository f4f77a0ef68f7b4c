// Colour state of stored records over time, pure: the verdict of a record at a moment, the
// colour it really had before an event, what to store after one (keeping `colourSince` while
// the colour holds), since when a colour holds, and the computer's sweep key after a
// heartbeat. Used by the heartbeat, report and sweep services and by the wire views.
import { type ColourVerdict, computerColour, partitionColour, partitionMaxReportAgeSeconds, REASONS } from './colours.ts';
import type { ColourFields, ComputerRecord, PartitionRecord } from './records.ts';
import { effectiveBangAt } from './reprocess.ts';

type StoredColour = Pick<ColourFields, 'colour' | 'colourSince'>;

const date = (s: string | null | undefined): Date | null => (s ? new Date(s) : null);

export function computerVerdict(c: Pick<ComputerRecord, 'lastContactAt'>, now: Date): ColourVerdict {
  return computerColour(date(c.lastContactAt), now);
}

export function partitionVerdict(
  p: Pick<PartitionRecord, 'lastReport' | 'lastBangAt' | 'reprocessRequestedAt' | 'periodicitySeconds' | 'computerFrequencySeconds'>,
  now: Date,
): ColourVerdict {
  const r = p.lastReport;
  return partitionColour(
    {
      lastReport: r ? { ok: r.ok, error: r.error, receivedAt: new Date(r.receivedAt), failed: r.failed } : null,
      lastBangAt: date(effectiveBangAt(p)),
      maxReportAgeSeconds: partitionMaxReportAgeSeconds(p.periodicitySeconds, p.computerFrequencySeconds),
    },
    now,
  );
}

/**
 * The colour an item really has at `now`, before a heartbeat or report changes it: the
 * stored one, unless the rules say it changed since (a transition the minute sweep has not
 * recorded yet, e.g. it did not run). Used so that `colourSince` restarts at every real
 * transition, recorded or not.
 */
export function colourBefore(stored: StoredColour, v: ColourVerdict): StoredColour {
  if (stored.colour === v.colour) return stored;
  return { colour: v.colour, colourSince: v.since ? v.since.toISOString() : null };
}

/** The colour fields to store after a verdict: keeps `colourSince` while the colour holds. */
export function nextColourFields(stored: StoredColour, v: ColourVerdict, now: Date): ColourFields {
  const same = stored.colour === v.colour && stored.colourSince !== null;
  return {
    colour: v.colour,
    colourReason: v.reason,
    colourSince: same ? stored.colourSince : (v.since ?? now).toISOString(),
    sweepAt: v.nextChangeAt ? v.nextChangeAt.toISOString() : null,
  };
}

/**
 * Since when the verdict's colour holds, as served: the stored `colourSince` while the
 * colour is the stored one, else when the rules say it started; `createdAt` when the item
 * never had the event that colours it (a computer never in contact, a partition with no
 * report yet: red since it was registered).
 */
export function colourSinceAt(stored: StoredColour, v: ColourVerdict, neverColoured: boolean, createdAt: string): string | null {
  if (stored.colour === v.colour && stored.colourSince) return stored.colourSince;
  if (v.since) return v.since.toISOString();
  return neverColoured ? createdAt : null;
}

/**
 * A heartbeat moves the computer's sweep key (GSI `sweep`, = when it turns orange) only
 * when needed: a key still at least this far ahead of the heartbeat is kept. Each key
 * move costs two index writes; with a heartbeat every 60 s (± 30 s) three moves in four are
 * saved, and as long as heartbeats come less than 90 s apart the sweep never reads the
 * computer (it looks early only after a silence of more than 90 s).
 */
export const SWEEP_KEY_SLACK_MS = 90_000;

/**
 * The sweep key a heartbeat at `at` leaves on the computer: `undefined` = keep the stored
 * one. A kept key is never later than the real colour change (`nextChangeAt`), so the sweep
 * never records a transition late; it can only look at the computer early, and only when
 * the computer has been silent for more than SWEEP_KEY_SLACK_MS (then it re-keys it).
 */
export function heartbeatSweepKey(storedKey: string | null, colourChanged: boolean, at: Date, nextChangeAt: Date | null): string | null | undefined {
  const next = nextChangeAt ? nextChangeAt.toISOString() : null;
  if (colourChanged || !storedKey || !next) return next;
  const stored = Date.parse(storedKey);
  if (!Number.isFinite(stored)) return next;
  if (storedKey <= next && stored - at.getTime() >= SWEEP_KEY_SLACK_MS) return undefined;
  return next;
}

/** What a heartbeat at `now` changes on its computer's colour state. */
export interface HeartbeatColour {
  /** New colour fields when the colour changes with this contact (colourSince restarts), else null. */
  colour: Omit<ColourFields, 'sweepAt'> | null;
  /** The new sweep key: null = out of the index, undefined = keep the stored one. */
  sweepAt: string | null | undefined;
}

export function heartbeatColour(computer: Pick<ComputerRecord, 'lastContactAt' | 'colour' | 'colourSince' | 'sweepAt'>, now: Date): HeartbeatColour {
  const nowIso = now.toISOString();
  const v = computerVerdict({ lastContactAt: nowIso }, now);
  // Its colour right before this contact (orange or red after a silence, even if the
  // sweep has not recorded it): a change restarts colourSince.
  const before = colourBefore(computer, computerVerdict(computer, now));
  const changed = before.colour !== v.colour || !before.colourSince;
  return {
    colour: changed ? { colour: v.colour, colourReason: REASONS.inContact, colourSince: nowIso } : null,
    sweepAt: heartbeatSweepKey(computer.sweepAt, changed, now, v.nextChangeAt),
  };
}
