// The events of bangs (SPEC §3 "Notifications"): one bang.accepted when the fan-out of an
// accepted bang completes (listing the tree, however large), one bang.rejected when the daily
// quota refuses a bang. Called from services/fanout.ts and services/bangs.ts.
import type { BangRecord } from '../domain/records.ts';
import { bangAcceptedEvent, bangRejectedEvent } from '../notify/derive.ts';
import { notifyContext, type PublishDeps, type PublishResult, publishEvents } from './notify-publish.ts';

const facts = (b: Pick<BangRecord, 'bangId' | 'partitionId' | 'computerId' | 'instanceTreeId' | 'source' | 'message'>) => ({
  bangId: b.bangId,
  partitionId: b.partitionId,
  computerId: b.computerId,
  instanceTreeId: b.instanceTreeId,
  source: b.source,
  message: b.message,
});

/** The fan-out of `bang` flagged `total` partitions; `partitionIds`: the first of the tree by id. */
export async function publishBangAccepted(deps: PublishDeps, bang: BangRecord, total: number, partitionIds: readonly string[]): Promise<PublishResult> {
  const now = deps.now();
  const ctx = await notifyContext(deps, now);
  const event = bangAcceptedEvent({ bang: facts(bang), fannedOutTo: total, partitionIds, partitionCount: total, at: now.toISOString(), ...ctx });
  return publishEvents(deps, [event]);
}

/** A bang refused by the daily quota of its partition (`retryAt`: the next UTC day). */
export async function publishBangRejected(deps: PublishDeps, bang: BangRecord, quotaPerDay: number, retryAt: string): Promise<PublishResult> {
  const now = deps.now();
  const ctx = await notifyContext(deps, now);
  const event = bangRejectedEvent({ bang: facts(bang), quotaPerDay, retryAfter: retryAt, at: now.toISOString(), ...ctx });
  return publishEvents(deps, [event]);
}
