// Back-off for failed instantiations: base delay doubling per consecutive failure, capped;
// reset on success (the caller stores `failures` in the partition state).

export interface BackoffPolicy {
  /** delay after the first failure (default 10 s) */
  baseMs: number;
  /** cap (default 5 min) */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 10_000, maxMs: 300_000 };

/** Delay before the next attempt after `failures` consecutive failures (0 → no delay). */
export function backoffDelayMs(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (!Number.isFinite(failures) || failures <= 0) return 0;
  const exp = Math.min(failures - 1, 40); // 2^40 overflows nothing and exceeds any cap
  return Math.min(policy.baseMs * 2 ** exp, policy.maxMs);
}

/** When a partition that failed `failures` times, last at `failedAt`, may be retried. */
export function nextAttemptAt(failedAt: Date, failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): Date {
  return new Date(failedAt.getTime() + backoffDelayMs(failures, policy));
}
