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
      lastReport: r ? { ok: r.ok, error: r.error, receivedAt: new Date(r.receivedAt), failed: r.failed, failedCount: r.failedCount } : null,
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
 * The sweep key of a partition after a write (report, put), LAZY: a stored key that is not
 * later than the real change time is kept (`undefined`), so a partition turning red, or
 * staying green with a later due time, costs no index write; the sweep reads it when the key
 * comes due and then keys it to the real time (or drops it). A stored key later than the
 * real change (the due time moved earlier) is moved to it; no key and no change: nothing.
 * The sweep therefore never records a transition late, it can only look early.
 */
export function lazySweepKey(storedKey: string | null, nextChangeAt: Date | null): string | undefined {
  if (!nextChangeAt) return undefined;
  const next = nextChangeAt.toISOString();
  if (storedKey && storedKey <= next) return undefined;
  return next;
}

/** What a heartbeat at `now` changes on its computer's colour state: new colour fields (colourSince restarts), or null. */
export function heartbeatColour(computer: Pick<ComputerRecord, 'lastContactAt' | 'colour' | 'colourSince'>, now: Date): Omit<ColourFields, 'sweepAt'> | null {
  const nowIso = now.toISOString();
  const v = computerVerdict({ lastContactAt: nowIso }, now);
  // Its colour right before this contact (orange or red after a silence, even if the
  // sweep has not recorded it): a change restarts colourSince.
  const before = colourBefore(computer, computerVerdict(computer, now));
  const changed = before.colour !== v.colour || !before.colourSince;
  return changed ? { colour: v.colour, colourReason: REASONS.inContact, colourSince: nowIso } : null;
}
