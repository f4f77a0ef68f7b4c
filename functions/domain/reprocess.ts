// Reprocess rules, pure: when a partition must be re-instantiated (a bang on itself or on its
// tree) and when the agent has handled that request.
import type { PartitionRecord } from './records.ts';

const maxIso = (a: string | null, b: string | null): string | null => (!a ? b : !b ? a : a > b ? a : b);

/** The reason served when a flag carries none. */
export const DEFAULT_REPROCESS_REASON = 'reprocess requested';

/** The latest bang that concerns a partition: on itself, or fanned out to its tree. */
export function effectiveBangAt(p: Pick<PartitionRecord, 'lastBangAt' | 'reprocessRequestedAt'>): string | null {
  return maxIso(p.lastBangAt, p.reprocessRequestedAt);
}

/** The reprocess request the agent has not handled yet (heartbeats serve it), or null. */
export function pendingReprocess(
  p: Pick<PartitionRecord, 'partitionId' | 'reprocessRequestedAt' | 'reprocessedUpTo' | 'reprocessReason'>,
): { partitionId: string; requestedAt: string; reason: string } | null {
  if (!p.reprocessRequestedAt) return null;
  if (p.reprocessedUpTo && p.reprocessedUpTo >= p.reprocessRequestedAt) return null;
  return { partitionId: p.partitionId, requestedAt: p.reprocessRequestedAt, reason: p.reprocessReason ?? DEFAULT_REPROCESS_REASON };
}

/**
 * The `reprocessedUpTo` a report acknowledges, capped at the master's clock (a far-future
 * value from an agent would swallow every later flag), or null when it raises nothing.
 */
export function acknowledgedUpTo(reported: string | undefined, stored: string | null, nowIso: string): string | null {
  if (!reported) return null;
  const iso = new Date(reported).toISOString();
  const upTo = iso > nowIso ? nowIso : iso;
  return !stored || upTo > stored ? upTo : null;
}

/**
 * The bang whose handling is in progress on a partition (its events stand for the
 * partition's colour events, SPEC §3 "Notifications"): a reprocess flag the agent has not
 * acknowledged yet (the bang id when the fan-out gave it, else the partition's own id), or
 * a bang on the partition itself after its last report (before the fan-out flagged it).
 */
export function bangInProgress(
  p: Pick<PartitionRecord, 'partitionId' | 'reprocessRequestedAt' | 'reprocessedUpTo' | 'reprocessReason' | 'reprocessBangId' | 'lastBangAt' | 'lastReport'>,
): string | null {
  if (pendingReprocess(p)) return p.reprocessBangId ?? p.partitionId;
  if (p.lastBangAt && (!p.lastReport || p.lastBangAt >= p.lastReport.receivedAt)) return p.partitionId;
  return null;
}
