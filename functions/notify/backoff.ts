// Retry schedule of a delivery, pure (the clock and the random source are passed in).
// 5 s after the first failure, doubling up to 30 min, each delay shortened by up to 20 %
// at random (so the retries of many channels spread out); a Retry-After is honoured (never
// retried earlier). Given up 48 h after the first failure (SPEC: at least 24 h), with one
// last attempt at that moment.

export const BACKOFF_FIRST_MS = 5_000;
export const BACKOFF_MAX_MS = 30 * 60_000;
/** Each delay is in [(1 - JITTER) × base, base]. */
export const BACKOFF_JITTER = 0.2;
/** A delivery that fails for this long after its first failure is dead. */
export const GIVE_UP_AFTER_MS = 48 * 3_600_000;

/** The un-jittered delay after the n-th failed attempt (n ≥ 1). */
export function baseDelayMs(failedAttempts: number): number {
  const n = Math.max(1, Math.floor(failedAttempts));
  // 2^(n-1) overflows nothing below 2^1023; the cap is reached at n = 10.
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(n - 1, 30));
}

/** The delay after the n-th failed attempt with jitter `r` in [0, 1). */
export function jitteredDelayMs(failedAttempts: number, r: number): number {
  const u = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return Math.round(baseDelayMs(failedAttempts) * (1 - BACKOFF_JITTER * u));
}

/** When this delivery is dead if it keeps failing. */
export function giveUpAt(firstFailureAt: Date): Date {
  return new Date(firstFailureAt.getTime() + GIVE_UP_AFTER_MS);
}

/**
 * When to try again after `failedAttempts` failures (the one just seen included), or null:
 * give up (the delivery is dead). Never before `retryAfter`; never after the give-up moment
 * (a Retry-After beyond it is cut to one last attempt then).
 */
export function nextAttemptAt(
  failedAttempts: number,
  firstFailureAt: Date,
  now: Date,
  retryAfter: Date | null = null,
  random: () => number = Math.random,
): Date | null {
  const deadline = giveUpAt(firstFailureAt).getTime();
  if (now.getTime() >= deadline) return null;
  let next = now.getTime() + jitteredDelayMs(failedAttempts, random());
  if (retryAfter && retryAfter.getTime() > next) next = retryAfter.getTime();
  return new Date(Math.min(next, deadline));
}
