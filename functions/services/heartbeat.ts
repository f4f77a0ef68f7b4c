// A computer's heartbeat: records the contact (and a colour change it makes), answers the
// reprocess requests pending on its partitions and its partition assignments.
import type { HeartbeatRequest, HeartbeatResponse } from '../../protocol/index.ts';
import type { ComputerRecord, PartitionRecord } from '../domain/records.ts';
import { pendingReprocess } from '../domain/reprocess.ts';
import { heartbeatColour } from '../domain/transitions.ts';
import type { ServiceDeps } from './deps.ts';

/** The computer as authenticated (its token checked) with its partitions: one read. */
export interface ComputerWithPartitions {
  computer: ComputerRecord;
  partitions: PartitionRecord[];
}

export async function heartbeat(deps: Pick<ServiceDeps, 'store' | 'now'>, loaded: ComputerWithPartitions, body: HeartbeatRequest): Promise<HeartbeatResponse> {
  const { computer, partitions } = loaded;
  const now = deps.now();
  const nowIso = now.toISOString();
  const change = heartbeatColour(computer, now);
  await deps.store.recordHeartbeat(computer.computerId, { at: nowIso, agentVersion: body.agentVersion, colour: change.colour, sweepAt: change.sweepAt });
  return {
    serverTime: nowIso,
    instantiationFrequencySeconds: computer.instantiationFrequencySeconds,
    reprocess: partitions.map(pendingReprocess).filter((x): x is NonNullable<typeof x> => x !== null),
    partitions: partitions.map((p) => ({
      partitionId: p.partitionId,
      instanceTreeId: p.instanceTreeId,
      softwareReleaseId: p.softwareReleaseId,
      periodicitySeconds: p.periodicitySeconds,
    })),
  };
}
