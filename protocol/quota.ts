// The daily bang quota's day (SPEC §3): a UTC day. Zod-free, shared by the master (which
// counts bangs per partition and day) and the agent (which waits for the next day after a 429
// without Retry-After).

/** The UTC day a moment belongs to, as YYYY-MM-DD (the quota counter's key). */
export function quotaDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** Start of the next UTC day: when the quota resets. */
export function nextUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/** Seconds until the quota resets (the value of Retry-After), at least 1. */
export function secondsToNextUtcDay(now: Date): number {
  return Math.max(1, Math.ceil((nextUtcDay(now).getTime() - now.getTime()) / 1000));
}
