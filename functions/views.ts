// Wire views of stored records (protocol/ shapes), with colours computed at the moment of
// the request (master clock). Mapping only: every rule used here lives in functions/domain/.
import type { Bang, Computer, Partition } from '../protocol/index.ts';
import { crimesOf } from './domain/crimes.ts';
import type { ColourVerdict } from './domain/colours.ts';
import type { BangRecord, ColourFields, ComputerRecord, PartitionRecord } from './domain/records.ts';
import { effectiveBangAt, pendingReprocess } from './domain/reprocess.ts';
import { colourSinceAt, computerVerdict, partitionVerdict } from './domain/transitions.ts';

/** The colour of a record as served: the verdict at `now`, and since when it holds. */
function colourOf(r: ColourFields & { createdAt: string }, v: ColourVerdict, neverColoured: boolean): Pick<Computer, 'colour' | 'colourReason' | 'colourSince'> {
  return { colour: v.colour, colourReason: v.reason, colourSince: colourSinceAt(r, v, neverColoured, r.createdAt) };
}

export function wireComputer(c: ComputerRecord, now: Date): Computer {
  const { computerId, instantiationFrequencySeconds, lastContactAt, agentVersion, createdAt, updatedAt } = c;
  return { computerId, instantiationFrequencySeconds, lastContactAt, agentVersion, ...colourOf(c, computerVerdict(c, now), !lastContactAt), createdAt, updatedAt };
}

export function wirePartition(p: PartitionRecord, now: Date): Partition {
  const { partitionId, computerId, instanceTreeId, softwareReleaseId, periodicitySeconds, lastReport } = p;
  return {
    ...{ partitionId, computerId, instanceTreeId, softwareReleaseId, periodicitySeconds },
    ...colourOf(p, partitionVerdict(p, now), !lastReport),
    lastReport,
    reprocess: pendingReprocess(p),
    lastBangAt: effectiveBangAt(p),
    crimes: p.crimeState ? crimesOf(p.crimeState) : [],
    flapping: p.notify.flapping,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

export function wireBang(b: BangRecord): Bang {
  return { ...b };
}
