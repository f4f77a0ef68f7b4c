// Wire views of stored records, with colours computed at the moment of the request
// (master clock). Shared by the app (GETs, heartbeats, reports) and the sweep.
import type { Bang, Computer, Partition } from '../protocol/index.ts';
import { type ColourVerdict, computerColour, partitionColour, partitionMaxReportAgeSeconds } from './domain/colours.ts';
import { crimesOf } from './domain/crimes.ts';
import type { BangRecord, ColourFields, ComputerRecord, PartitionRecord } from './store/types.ts';

const date = (s: string | null | undefined): Date | null => (s ? new Date(s) : null);
const maxIso = (a: string | null, b: string | null): string | null => (!a ? b : !b ? a : a > b ? a : b);

export function computerVerdict(c: Pick<ComputerRecord, 'lastContactAt'>, now: Date): ColourVerdict {
  return computerColour(date(c.lastContactAt), now);
}

/** The latest bang that concerns a partition: on itself, or fanned out to its tree. */
export function effectiveBangAt(p: Pick<PartitionRecord, 'lastBangAt' | 'reprocessRequestedAt'>): string | null {
  return maxIso(p.lastBangAt, p.reprocessRequestedAt);
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
export function colourBefore(
  stored: Pick<ColourFields, 'colour' | 'colourSince'>,
  v: ColourVerdict,
): Pick<ColourFields, 'colour' | 'colourSince'> {
  if (stored.colour === v.colour) return stored;
  return { colour: v.colour, colourSince: v.since ? v.since.toISOString() : null };
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

/** The colour fields to store after a verdict: keeps `colourSince` while the colour holds. */
export function nextColourFields(stored: Pick<ColourFields, 'colour' | 'colourSince'>, v: ColourVerdict, now: Date): ColourFields {
  const same = stored.colour === v.colour && stored.colourSince !== null;
  return {
    colour: v.colour,
    colourReason: v.reason,
    colourSince: same ? stored.colourSince : (v.since ?? now).toISOString(),
    sweepAt: v.nextChangeAt ? v.nextChangeAt.toISOString() : null,
  };
}

function since(stored: Pick<ColourFields, 'colour' | 'colourSince'>, v: ColourVerdict): string | null {
  if (stored.colour === v.colour && stored.colourSince) return stored.colourSince;
  return v.since ? v.since.toISOString() : null;
}

export function toComputer(c: ComputerRecord, now: Date): Computer {
  const v = computerVerdict(c, now);
  // Never contacted: red since it was registered.
  const sinceNow = since(c, v) ?? (c.lastContactAt ? null : c.createdAt);
  return {
    computerId: c.computerId,
    instantiationFrequencySeconds: c.instantiationFrequencySeconds,
    lastContactAt: c.lastContactAt,
    agentVersion: c.agentVersion,
    colour: v.colour,
    colourReason: v.reason,
    colourSince: sinceNow,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export function pendingReprocess(p: PartitionRecord): { partitionId: string; requestedAt: string; reason: string } | null {
  if (!p.reprocessRequestedAt) return null;
  if (p.reprocessedUpTo && p.reprocessedUpTo >= p.reprocessRequestedAt) return null;
  return { partitionId: p.partitionId, requestedAt: p.reprocessRequestedAt, reason: p.reprocessReason ?? 'reprocess requested' };
}

export function toPartition(p: PartitionRecord, now: Date): Partition {
  const v = partitionVerdict(p, now);
  // No report yet: red since the partition was created.
  const sinceNow = since(p, v) ?? (p.lastReport ? null : p.createdAt);
  return {
    partitionId: p.partitionId,
    computerId: p.computerId,
    instanceTreeId: p.instanceTreeId,
    softwareReleaseId: p.softwareReleaseId,
    periodicitySeconds: p.periodicitySeconds,
    colour: v.colour,
    colourReason: v.reason,
    colourSince: sinceNow,
    lastReport: p.lastReport,
    reprocess: pendingReprocess(p),
    lastBangAt: effectiveBangAt(p),
    crimes: p.crimeState ? crimesOf(p.crimeState) : [],
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

export function toBang(b: BangRecord): Bang {
  return { ...b };
}
