// The admin's writes: software releases, computers (and their tokens), partitions.
import type { Computer, ComputerPut, ComputerToken, Partition, PartitionPut, SoftwareRelease, SoftwareReleasePut } from '../../protocol/index.ts';
import { newComputerToken, sha256Hex } from '../auth.ts';
import { computerColour, DEFAULT_INSTANTIATION_FREQUENCY_SECONDS, partitionColour } from '../domain/colours.ts';
import { DEFAULT_BANG_QUOTA_PER_DAY } from '../domain/quota.ts';
import { wireComputer, wirePartition } from '../views.ts';
import type { ServiceDeps } from './deps.ts';

type Deps = Pick<ServiceDeps, 'store' | 'now'>;

export async function putSoftwareRelease(deps: Deps, softwareReleaseId: string, b: SoftwareReleasePut): Promise<{ created: boolean; softwareRelease: SoftwareRelease }> {
  const r = await deps.store.putSoftwareRelease(
    { softwareReleaseId, url: b.url, periodicitySeconds: b.periodicitySeconds ?? null, bangQuotaPerDay: b.bangQuotaPerDay ?? DEFAULT_BANG_QUOTA_PER_DAY },
    deps.now().toISOString(),
  );
  return { created: r.created, softwareRelease: r.record };
}

export type RegisterComputerOutcome =
  /** First registration: the token, shown only now. */
  | { outcome: 'registered'; token: ComputerToken }
  /** It existed: its settings were updated, its token is unchanged. */
  | { outcome: 'updated'; computer: Computer }
  /** It changed while being updated (retry). */
  | { outcome: 'conflict' };

export async function registerComputer(deps: Deps, computerId: string, b: ComputerPut): Promise<RegisterComputerOutcome> {
  const at = deps.now();
  const now = at.toISOString();
  const token = newComputerToken(computerId);
  const first = computerColour(null, at);
  const created = await deps.store.createComputer(
    {
      computerId,
      tokenHash: sha256Hex(token),
      instantiationFrequencySeconds: b.instantiationFrequencySeconds ?? DEFAULT_INSTANTIATION_FREQUENCY_SECONDS,
      colour: first.colour,
      colourReason: first.reason,
    },
    now,
  );
  if (created) return { outcome: 'registered', token: { computerId, token } };
  const patch = b.instantiationFrequencySeconds === undefined ? {} : { instantiationFrequencySeconds: b.instantiationFrequencySeconds };
  const rec = await deps.store.updateComputer(computerId, patch, now);
  if (!rec) return { outcome: 'conflict' };
  return { outcome: 'updated', computer: wireComputer(rec, at) };
}

/** A new token for the computer (the old one stops working), or null when it does not exist. */
export async function rotateComputerToken(deps: Deps, computerId: string): Promise<ComputerToken | null> {
  const token = newComputerToken(computerId);
  return (await deps.store.setComputerToken(computerId, sha256Hex(token), deps.now().toISOString())) ? { computerId, token } : null;
}

export type AssignPartitionOutcome =
  | { outcome: 'created' | 'updated'; partition: Partition }
  /** The partition is on another computer and moving it was not asked for. */
  | { outcome: 'elsewhere'; computerId: string }
  | { outcome: 'missing'; missing: 'computer' | 'softwareRelease' };

/**
 * A partition on a computer, in a tree, running a software release. A partition is a
 * directory on one computer: silently re-homing it would leave the old computer's agent with
 * an orphan, so moving it is explicit (`move`).
 */
export async function assignPartition(deps: Deps, partitionId: string, b: PartitionPut, move: boolean): Promise<AssignPartitionOutcome> {
  if (!move) {
    const existing = await deps.store.getPartition(partitionId);
    if (existing && existing.computerId !== b.computerId) return { outcome: 'elsewhere', computerId: existing.computerId };
  }
  const at = deps.now();
  const first = partitionColour({ lastReport: null, lastBangAt: null, maxReportAgeSeconds: 0 }, at);
  const r = await deps.store.putPartition({ partitionId, ...b }, at.toISOString(), { colour: first.colour, colourReason: first.reason });
  if ('missing' in r) return { outcome: 'missing', missing: r.missing };
  return { outcome: r.created ? 'created' : 'updated', partition: wirePartition(r.record, at) };
}
