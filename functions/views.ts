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
  return {
    computerId: c.computerId,
    instantiationFrequencySeconds: c.instantiationFrequencySeconds,
    lastContactAt: c.lastContactAt,
    agentVersion: c.agentVersion,
    colour: v.colour,
    colourReason: v.reason,
    colourSince: since(c, v),
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
  return {
    partitionId: p.partitionId,
    computerId: p.computerId,
    instanceTreeId: p.instanceTreeId,
    softwareReleaseId: p.softwareReleaseId,
    periodicitySeconds: p.periodicitySeconds,
    colour: v.colour,
    colourReason: v.reason,
    colourSince: since(p, v),
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
