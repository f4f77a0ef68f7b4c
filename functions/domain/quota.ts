// Daily bang quota per partition (UTC day), pure. The day itself is the protocol's
// (protocol/quota.ts), shared with the agent.
import { nextUtcDay, quotaDay, secondsToNextUtcDay } from '../../protocol/quota.ts';

export { nextUtcDay, quotaDay, secondsToNextUtcDay };

export const DEFAULT_BANG_QUOTA_PER_DAY = 24;

/** May one more bang be accepted when `usedToday` were already accepted? */
export function withinQuota(usedToday: number, quotaPerDay: number): boolean {
  return usedToday < quotaPerDay;
}

/** When a day's quota counter may be deleted (TTL, epoch seconds): a day after that day ended. */
export function quotaCounterExpiresAt(now: Date): number {
  return Math.floor(nextUtcDay(now).getTime() / 1000) + 86_400;
}
