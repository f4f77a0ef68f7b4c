// Daily bang quota per partition (UTC day), pure.
export const DEFAULT_BANG_QUOTA_PER_DAY = 24;

/** The UTC day a moment belongs to, as YYYY-MM-DD. */
export function quotaDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** Start of the next UTC day. */
export function nextUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

/** Seconds until the quota resets (the value of Retry-After), at least 1. */
export function retryAfterSeconds(now: Date): number {
  return Math.max(1, Math.ceil((nextUtcDay(now).getTime() - now.getTime()) / 1000));
}

/** May one more bang be accepted when `usedToday` were already accepted? */
export function withinQuota(usedToday: number, quotaPerDay: number): boolean {
  return usedToday < quotaPerDay;
}
