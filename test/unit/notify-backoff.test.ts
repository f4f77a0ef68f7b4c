import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BACKOFF_FIRST_MS,
  BACKOFF_JITTER,
  BACKOFF_MAX_MS,
  GIVE_UP_AFTER_MS,
  baseDelayMs,
  giveUpAt,
  jitteredDelayMs,
  nextAttemptAt,
} from '../../functions/notify/backoff.ts';

const T0 = Date.UTC(2025, 4, 1, 10);
const H = 3_600_000;
const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('schedule', () => {
  it('5 s doubling to a 30 min cap', () => {
    expect([1, 2, 3, 4, 5].map(baseDelayMs)).toEqual([5_000, 10_000, 20_000, 40_000, 80_000]);
    expect(baseDelayMs(9)).toBe(1_280_000);
    expect(baseDelayMs(10)).toBe(BACKOFF_MAX_MS);
    expect(baseDelayMs(10_000)).toBe(BACKOFF_MAX_MS);
    expect(baseDelayMs(0)).toBe(BACKOFF_FIRST_MS);
  });
  it('property: non-decreasing in attempts (same random), jitter within [80 %, 100 %] of the base', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), randomArb, (n, r) => {
        expect(baseDelayMs(n + 1)).toBeGreaterThanOrEqual(baseDelayMs(n));
        expect(jitteredDelayMs(n + 1, r)).toBeGreaterThanOrEqual(jitteredDelayMs(n, r));
        const d = jitteredDelayMs(n, r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(baseDelayMs(n) * (1 - BACKOFF_JITTER)));
        expect(d).toBeLessThanOrEqual(baseDelayMs(n));
      }),
    );
  });
  it('a broken random source cannot make a delay negative or huge', () => {
    expect(jitteredDelayMs(1, Number.NaN)).toBe(5_000);
    expect(jitteredDelayMs(1, -5)).toBe(5_000);
    expect(jitteredDelayMs(1, 7)).toBe(4_000);
  });
});

describe('nextAttemptAt', () => {
  const first = new Date(T0);
  it('first retry 5 s (less jitter) after the failure', () => {
    expect(nextAttemptAt(1, first, first, null, () => 0)?.getTime()).toBe(T0 + 5_000);
    expect(nextAttemptAt(1, first, first, null, () => 0.5)?.getTime()).toBe(T0 + 4_500);
  });
  it('honours Retry-After: never earlier', () => {
    const ra = new Date(T0 + 120_000);
    expect(nextAttemptAt(1, first, first, ra, () => 0)?.getTime()).toBe(T0 + 120_000);
    // a Retry-After earlier than the back-off does not shorten it
    expect(nextAttemptAt(5, first, first, new Date(T0 + 1), () => 0)?.getTime()).toBe(T0 + 80_000);
  });
  it('gives up 48 h after the first failure, with a last attempt at that moment', () => {
    expect(giveUpAt(first).getTime()).toBe(T0 + GIVE_UP_AFTER_MS);
    expect(GIVE_UP_AFTER_MS).toBeGreaterThanOrEqual(24 * H);
    const late = new Date(T0 + GIVE_UP_AFTER_MS - 1000);
    expect(nextAttemptAt(100, first, late, null, () => 0)?.getTime()).toBe(T0 + GIVE_UP_AFTER_MS);
    expect(nextAttemptAt(100, first, new Date(T0 + GIVE_UP_AFTER_MS), null, () => 0)).toBeNull();
    // a Retry-After past the deadline is cut to the deadline
    expect(nextAttemptAt(3, first, first, new Date(T0 + 100 * H), () => 0)?.getTime()).toBe(T0 + GIVE_UP_AFTER_MS);
  });
  it('property: later than now, not before Retry-After (when before the deadline), never after the deadline', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: GIVE_UP_AFTER_MS - 1 }),
        fc.option(fc.integer({ min: -H, max: 60 * H })),
        randomArb,
        (n, elapsed, ra, r) => {
          const now = new Date(T0 + elapsed);
          const retryAfter = ra === null ? null : new Date(T0 + elapsed + ra);
          const next = nextAttemptAt(n, first, now, retryAfter, () => r)!;
          expect(next).not.toBeNull();
          expect(next.getTime()).toBeGreaterThan(now.getTime());
          expect(next.getTime()).toBeLessThanOrEqual(T0 + GIVE_UP_AFTER_MS);
          if (retryAfter && retryAfter.getTime() <= T0 + GIVE_UP_AFTER_MS) expect(next.getTime()).toBeGreaterThanOrEqual(retryAfter.getTime());
        },
      ),
    );
  });
  it('property: a receiver that never recovers is retried for at least 24 h (48 h), with a bounded number of attempts', () => {
    fc.assert(
      fc.property(
        fc.array(randomArb, { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.option(fc.integer({ min: 0, max: 3 * H }), { freq: 4 }), { minLength: 1, maxLength: 20 }),
        (randoms, durations, retryAfters) => {
          let now = T0;
          let attempts = 0;
          let i = 0;
          const firstFailure = new Date(T0);
          for (;;) {
            attempts++;
            now += durations[i % durations.length]!; // the failed attempt took this long
            const ra = retryAfters[i % retryAfters.length];
            const next = nextAttemptAt(attempts, firstFailure, new Date(now), ra == null ? null : new Date(now + ra), () => randoms[i % randoms.length]!);
            i++;
            if (next === null) break;
            expect(next.getTime()).toBeGreaterThan(now);
            now = next.getTime();
          }
          expect(now - T0).toBeGreaterThanOrEqual(24 * H);
          expect(now - T0).toBeGreaterThanOrEqual(GIVE_UP_AFTER_MS);
          expect(attempts).toBeLessThan(200);
        },
      ),
      { numRuns: 50 },
    );
  });
});
