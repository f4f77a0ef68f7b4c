// A bang: within the daily quota of its partition it is recorded, marks its partition and is
// queued for the fan-out to its tree (fanned out inline when the queue is down); over the
// quota it is logged as rejected and nothing is fanned out.
import type { BangRequest } from '../../protocol/index.ts';
import { newBang } from '../domain/bangs.ts';
import { nextUtcDay, quotaCounterExpiresAt, quotaDay, secondsToNextUtcDay } from '../domain/quota.ts';
import type { PartitionRecord } from '../domain/records.ts';
import { bangMessage } from './bang-message.ts';
import { defaultLogError, type ServiceDeps } from './deps.ts';
import { fanOutBang } from './fanout.ts';
import { publishBangRejected } from './notify-bangs.ts';

export type BangOutcome =
  /** Accepted now, or earlier with the same bangId (`duplicate`): `fannedOutTo` partitions of its tree. */
  | { outcome: 'accepted'; bangId: string; fannedOutTo: number; duplicate: boolean }
  /** Over the partition's daily quota: retry at the next UTC day. */
  | { outcome: 'over-quota'; bangId: string; quotaPerDay: number; day: string; retryAt: string; retryAfterSeconds: number };

export async function acceptBang(deps: ServiceDeps, p: PartitionRecord, b: BangRequest): Promise<BangOutcome> {
  const { store } = deps;
  const now = deps.now();
  const existing = await store.getBang(p.partitionId, b.bangId);
  if (existing) return { outcome: 'accepted', bangId: b.bangId, fannedOutTo: existing.fannedOutTo, duplicate: true };
  const day = quotaDay(now);
  const bang = newBang(p, b, now.toISOString());
  if (!(await store.consumeBangQuota(p.partitionId, day, p.bangQuotaPerDay, quotaCounterExpiresAt(now)))) {
    await store.recordRejectedBang({ ...bang, fannedOutTo: 0, fanOut: 'rejected', accepted: false });
    await publishBangRejected(deps, { ...bang, fannedOutTo: 0, fanOut: 'rejected', accepted: false }, p.bangQuotaPerDay, nextUtcDay(now).toISOString());
    return {
      outcome: 'over-quota',
      bangId: b.bangId,
      quotaPerDay: p.bangQuotaPerDay,
      day,
      retryAt: nextUtcDay(now).toISOString(),
      retryAfterSeconds: secondsToNextUtcDay(now),
    };
  }
  const fannedOutTo = await store.countTreePartitions(p.instanceTreeId);
  if (!(await store.createBang({ ...bang, fannedOutTo, fanOut: 'pending', accepted: true }))) {
    // The same bangId won a race: give the quota back, answer as for a re-post.
    await store.refundBangQuota(p.partitionId, day);
    const again = await store.getBang(p.partitionId, b.bangId);
    return { outcome: 'accepted', bangId: b.bangId, fannedOutTo: again?.fannedOutTo ?? fannedOutTo, duplicate: true };
  }
  await store.markBanged(p.computerId, p.partitionId, bang.createdAt);
  const message = bangMessage(bang);
  try {
    await deps.queue.send(message);
  } catch (e) {
    // The queue is down: fan out inline rather than lose the bang.
    (deps.logError ?? defaultLogError)('vigil: bang queue send failed, fanning out inline', e);
    await fanOutBang(deps, message);
  }
  return { outcome: 'accepted', bangId: b.bangId, fannedOutTo, duplicate: false };
}
