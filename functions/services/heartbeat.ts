// A computer's heartbeat: ONE conditional UpdateItem records the contact (only if the token
// hash matches: the write is the token check), a second write only when the colour changes
// (e.g. orange → green). Its partition assignments come from the store's cache by assignment
// version (a Query only when they changed); the partitions' reprocess flags are read only while
// the computer's reprocess hint is raised (fan-out raises it after flagging), and the hint is
// cleared once nothing is pending. A colour change recorded by a heartbeat (back to green)
// has its computer.colour event (services/notify-changes.ts): only then are the computer's
// partitions and the silences read.
import type { HeartbeatRequest, HeartbeatResponse } from '../../protocol/index.ts';
import { pendingReprocess } from '../domain/reprocess.ts';
import { heartbeatColour } from '../domain/transitions.ts';
import type { ServiceDeps } from './deps.ts';
import { notifySession, recordComputerChange } from './notify-changes.ts';

export type HeartbeatOutcome =
  | { outcome: 'ok'; response: HeartbeatResponse }
  /** The token hash does not match the stored one (rotated, or forged): `tokenHash` is the stored one when known. */
  | { outcome: 'refused'; exists: boolean | null; tokenHash: string | null };

export async function heartbeat(
  deps: Pick<ServiceDeps, 'store' | 'now' | 'notify' | 'logError'>,
  auth: { computerId: string; tokenHash: string },
  body: HeartbeatRequest,
): Promise<HeartbeatOutcome> {
  const { store } = deps;
  const now = deps.now();
  const nowIso = now.toISOString();
  const contact = await store.recordContact(auth.computerId, { tokenHash: auth.tokenHash, at: nowIso, agentVersion: body.agentVersion });
  if (contact.outcome === 'refused') return contact;
  const before = contact.before;
  const colour = heartbeatColour(before, now);
  if (colour) {
    const d = { ...deps, now: () => now };
    await recordComputerChange(d, notifySession(d), before, colour, nowIso, now);
  }
  let reprocess: HeartbeatResponse['reprocess'] = [];
  let partitions: HeartbeatResponse['partitions'];
  if (before.reprocessHint > 0) {
    // a strongly consistent read of the flags: every flag raised before the hint is seen
    const all = await store.getComputerPartitions(auth.computerId, before.assignmentVersion);
    reprocess = all.map(pendingReprocess).filter((x): x is NonNullable<typeof x> => x !== null);
    if (reprocess.length === 0) await store.clearReprocessHint(auth.computerId, before.reprocessHint);
    partitions = all.map((p) => ({ partitionId: p.partitionId, instanceTreeId: p.instanceTreeId, softwareReleaseId: p.softwareReleaseId, periodicitySeconds: p.periodicitySeconds }));
  } else {
    partitions = await store.getAssignments(auth.computerId, before.assignmentVersion);
  }
  return {
    outcome: 'ok',
    response: { serverTime: nowIso, instantiationFrequencySeconds: before.instantiationFrequencySeconds, reprocess, partitions },
  };
}
