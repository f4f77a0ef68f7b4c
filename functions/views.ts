// Wire views of stored records (protocol/ shapes), with colours computed at the moment of
// the request (master clock). Mapping only: every rule used here lives in functions/domain/.
import type { Bang, Computer, Partition } from '../protocol/index.ts';
import { crimesOf } from './domain/crimes.ts';
import type { BangRecord, ComputerRecord, PartitionRecord } from './domain/records.ts';
import { effectiveBangAt, pendingReprocess } from './domain/reprocess.ts';
import { colourSinceAt, computerVerdict, partitionVerdict } from './domain/transitions.ts';

export function wireComputer(c: ComputerRecord, now: Date): Computer {
  const v = computerVerdict(c, now);
  return {
    computerId: c.computerId,
    instantiationFrequencySeconds: c.instantiationFrequencySeconds,
    lastContactAt: c.lastContactAt,
    agentVersion: c.agentVersion,
    colour: v.colour,
    colourReason: v.reason,
    colourSince: colourSinceAt(c, v, !c.lastContactAt, c.createdAt),
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export function wirePartition(p: PartitionRecord, now: Date): Partition {
  const v = partitionVerdict(p, now);
  return {
    partitionId: p.partitionId,
    computerId: p.computerId,
    instanceTreeId: p.instanceTreeId,
    softwareReleaseId: p.softwareReleaseId,
    periodicitySeconds: p.periodicitySeconds,
    colour: v.colour,
    colourReason: v.reason,
    colourSince: colourSinceAt(p, v, !p.lastReport, p.createdAt),
    lastReport: p.lastReport,
    reprocess: pendingReprocess(p),
    lastBangAt: effectiveBangAt(p),
    crimes: p.crimeState ? crimesOf(p.crimeState) : [],
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

export function wireBang(b: BangRecord): Bang {
  return { ...b };
}
