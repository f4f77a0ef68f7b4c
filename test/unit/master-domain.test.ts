import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  colourRank,
  computerColour,
  crimesOf,
  emptyCrimeState,
  foldReport,
  MAX_CLOCK_SKEW_MS,
  normalizeReport,
  nextUtcDay,
  partitionColour,
  partitionMaxReportAgeSeconds,
  quotaDay,
  secondsToNextUtcDay,
  withinQuota,
  worstColour,
} from '../../functions/domain/index.ts';

const T0 = Date.UTC(2025, 0, 1);
const dateArb = fc.integer({ min: T0, max: T0 + 5 * 365 * 86_400_000 }).map((n) => new Date(n));
const min = 60_000;

describe('computer colour', () => {
  it('green < 5 min, orange < 1 h, red after (boundaries)', () => {
    const c = new Date(T0);
    expect(computerColour(c, new Date(T0 + 5 * min - 1)).colour).toBe('green');
    expect(computerColour(c, new Date(T0 + 5 * min)).colour).toBe('orange');
    expect(computerColour(c, new Date(T0 + 60 * min - 1)).colour).toBe('orange');
    expect(computerColour(c, new Date(T0 + 60 * min)).colour).toBe('red');
    expect(computerColour(null, new Date(T0)).colour).toBe('red');
  });
  it('only degrades as time passes without contact', () => {
    fc.assert(
      fc.property(dateArb, fc.nat(10 * 86_400_000), fc.nat(10 * 86_400_000), (contact, a, b) => {
        const [d1, d2] = a <= b ? [a, b] : [b, a];
        const c1 = computerColour(contact, new Date(contact.getTime() + d1));
        const c2 = computerColour(contact, new Date(contact.getTime() + d2));
        expect(colourRank(c2.colour)).toBeGreaterThanOrEqual(colourRank(c1.colour));
      }),
    );
  });
  it('nextChangeAt is exactly when the colour changes', () => {
    fc.assert(
      fc.property(dateArb, fc.nat(2 * 3_600_000), (contact, age) => {
        const v = computerColour(contact, new Date(contact.getTime() + age));
        if (v.nextChangeAt) {
          expect(v.nextChangeAt.getTime()).toBeGreaterThan(contact.getTime() + age);
          expect(computerColour(contact, new Date(v.nextChangeAt.getTime() - 1)).colour).toBe(v.colour);
          expect(computerColour(contact, v.nextChangeAt).colour).not.toBe(v.colour);
        } else {
          expect(v.colour).toBe('red');
        }
      }),
    );
  });
});

describe('partition colour', () => {
  const ok = (receivedAt: Date) => ({ ok: true, receivedAt, failed: [] });
  it('max age is min(1 day, SR periodicity, computer frequency)', () => {
    expect(partitionMaxReportAgeSeconds(null, 86400 * 3)).toBe(86400);
    expect(partitionMaxReportAgeSeconds(3600, 86400)).toBe(3600);
    expect(partitionMaxReportAgeSeconds(7200, 600)).toBe(600);
  });
  it('reasons', () => {
    const now = new Date(T0 + 26 * 3_600_000);
    expect(partitionColour({ lastReport: null, lastBangAt: null, maxReportAgeSeconds: 86400 }, now).reason).toBe('no report yet');
    expect(partitionColour({ lastReport: ok(new Date(T0)), lastBangAt: null, maxReportAgeSeconds: 86400 }, now).reason).toBe('last report 26 h ago');
    const failed = partitionColour(
      { lastReport: { ok: false, receivedAt: now, failed: [{ name: 'check-url', message: 'HTTP 500' }] }, lastBangAt: null, maxReportAgeSeconds: 86400 },
      now,
    );
    expect(failed).toMatchObject({ colour: 'red', reason: 'promise check-url failed: HTTP 500' });
    const banged = partitionColour({ lastReport: ok(new Date(T0)), lastBangAt: new Date(T0 + 1000), maxReportAgeSeconds: 86400 }, new Date(T0 + 2000));
    expect(banged.colour).toBe('red');
    expect(banged.reason).toBe(`bang at ${new Date(T0 + 1000).toISOString()} after the last report`);
    expect(partitionColour({ lastReport: ok(new Date(T0)), lastBangAt: new Date(T0 - 1), maxReportAgeSeconds: 86400 }, new Date(T0 + 1)).colour).toBe('green');
  });
  it('green iff OK, young enough and no bang after it; only degrades with time', () => {
    fc.assert(
      fc.property(
        dateArb,
        fc.boolean(),
        fc.option(fc.integer({ min: -86_400_000, max: 86_400_000 })),
        fc.integer({ min: 60, max: 3 * 86400 }),
        fc.nat(3 * 86_400_000),
        fc.nat(3 * 86_400_000),
        (recv, good, bangOffset, maxAge, a, b) => {
          const input = {
            lastReport: good ? ok(recv) : { ok: false, error: 'boom', receivedAt: recv, failed: [] },
            lastBangAt: bangOffset === null ? null : new Date(recv.getTime() + bangOffset),
            maxReportAgeSeconds: maxAge,
          };
          const v = partitionColour(input, new Date(recv.getTime() + a));
          const expectGreen = good && (bangOffset === null || bangOffset < 0) && a < maxAge * 1000;
          expect(v.colour).toBe(expectGreen ? 'green' : 'red');
          const [d1, d2] = a <= b ? [a, b] : [b, a];
          const c1 = partitionColour(input, new Date(recv.getTime() + d1));
          const c2 = partitionColour(input, new Date(recv.getTime() + d2));
          expect(colourRank(c2.colour)).toBeGreaterThanOrEqual(colourRank(c1.colour));
        },
      ),
    );
  });
  it('worst colour', () => {
    expect(worstColour([])).toBe('green');
    expect(worstColour(['green', 'orange'])).toBe('orange');
    expect(worstColour(['orange', 'red', 'green'])).toBe('red');
  });
});

describe('bang quota day', () => {
  it('the day is the UTC day and the reset is its end', () => {
    expect(quotaDay(new Date('2025-03-01T23:59:59.999Z'))).toBe('2025-03-01');
    expect(quotaDay(new Date('2025-03-02T00:00:00.000Z'))).toBe('2025-03-02');
    expect(secondsToNextUtcDay(new Date('2025-03-01T23:59:00Z'))).toBe(60);
    expect(withinQuota(9, 10)).toBe(true);
    expect(withinQuota(10, 10)).toBe(false);
    expect(withinQuota(0, 0)).toBe(false);
  });
  it('every moment before the next UTC day shares its quota day; Retry-After lands on it', () => {
    fc.assert(
      fc.property(dateArb, (now) => {
        const next = nextUtcDay(now);
        expect(next.getTime()).toBeGreaterThan(now.getTime());
        expect(next.getTime() - now.getTime()).toBeLessThanOrEqual(86_400_000);
        expect(quotaDay(new Date(next.getTime() - 1))).toBe(quotaDay(now));
        expect(quotaDay(next)).not.toBe(quotaDay(now));
        const ra = secondsToNextUtcDay(now);
        expect(ra).toBeGreaterThanOrEqual(1);
        expect(quotaDay(new Date(now.getTime() + ra * 1000))).not.toBe(quotaDay(now));
      }),
    );
  });
});

describe('monitoring crimes', () => {
  const rep = (over: Partial<Parameters<typeof foldReport>[1]> = {}) => ({
    kind: 'instantiation' as const,
    startedAt: new Date(T0).toISOString(),
    durationMs: 1000,
    promises: [],
    ...over,
  });
  const p = (name: string, failed: boolean, periodicityMinutes?: number) => ({
    name,
    title: name,
    kind: 'test' as const,
    failed,
    message: '',
    date: new Date(T0).toISOString(),
    executionTimeMs: 1,
    ...(periodicityMinutes === undefined ? {} : { periodicityMinutes }),
  });
  it('a promise that never passes', () => {
    let s = emptyCrimeState();
    for (let i = 0; i < 3; i++) s = foldReport(s, rep({ startedAt: new Date(T0 + i * 3_600_000).toISOString(), promises: [p('a', true), p('b', i !== 1)] }));
    expect(crimesOf(s).map((c) => c.code)).toEqual(['promise-never-passes']);
    expect(crimesOf(s)[0]?.message).toContain('a');
    s = foldReport(s, rep({ startedAt: new Date(T0 + 5 * 3_600_000).toISOString(), promises: [p('a', false)] }));
    expect(crimesOf(s)).toEqual([]);
  });
  it('slow instantiation, all promises every minute', () => {
    const s = foldReport(emptyCrimeState(), rep({ durationMs: 61_000, promises: [p('a', false, 1), p('b', false, 1)] }));
    expect(crimesOf(s).map((c) => c.code).sort()).toEqual(['all-promises-every-minute', 'slow-instantiation']);
    const s2 = foldReport(s, rep({ startedAt: new Date(T0 + 3_600_000).toISOString(), promises: [p('a', false, 1), p('b', false, 10)] }));
    expect(crimesOf(s2)).toEqual([]);
  });
  it('instantiation that never sleeps', () => {
    let s = emptyCrimeState();
    let t = T0;
    for (let i = 0; i < 4; i++) {
      s = foldReport(s, rep({ startedAt: new Date(t).toISOString(), durationMs: 5000 }));
      t += 5000 + 1000;
    }
    expect(crimesOf(s).map((c) => c.code)).toEqual(['instantiation-never-sleeps']);
    s = foldReport(s, rep({ startedAt: new Date(t + 3_600_000).toISOString(), durationMs: 5000 }));
    expect(crimesOf(s)).toEqual([]);
  });
  it('folding never throws and counts failures exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.boolean()), { maxLength: 5 }), { maxLength: 20 }), (reports) => {
        let s = emptyCrimeState();
        const fails: Record<string, number> = {};
        const passed: Record<string, boolean> = {};
        for (const r of reports) {
          s = foldReport(s, rep({ kind: 'anomaly', promises: r.map(([n, f]) => p(n, f)) }));
          for (const [n, f] of r) {
            if (f) fails[n] = (fails[n] ?? 0) + 1;
            else passed[n] = true;
          }
        }
        const never = crimesOf(s).filter((c) => c.code === 'promise-never-passes').length;
        const expected = Object.keys(fails).filter((n) => !passed[n] && (fails[n] ?? 0) >= 3).length;
        expect(never).toBe(expected);
      }),
    );
  });
});

describe('report input (issue 10)', () => {
  const now = new Date(T0);
  const promise = (name: string, date: string, failed = false) => ({ name, title: name, kind: 'test' as const, failed, message: '', date, executionTimeMs: 1 });
  const report = (startedAt: string, promises: ReturnType<typeof promise>[]) => ({ reportId: 'r', kind: 'anomaly' as const, startedAt, durationMs: 1, ok: true, promises });

  it('dates up to the allowed skew ahead are kept, later ones are the master now; past dates are kept', () => {
    const edge = new Date(T0 + MAX_CLOCK_SKEW_MS).toISOString();
    const beyond = new Date(T0 + MAX_CLOCK_SKEW_MS + 1).toISOString();
    const past = '0001-01-01T00:00:00.000Z';
    const { report: r, warnings } = normalizeReport(report(beyond, [promise('a', edge), promise('b', beyond), promise('c', past)]), now);
    expect(r.startedAt).toBe(now.toISOString());
    expect(r.promises.map((p) => p.date)).toEqual([edge, now.toISOString(), past]);
    expect(warnings.map((w) => [w.field, w.code])).toEqual([
      ['body.startedAt', 'clamped_future_date'],
      ['body.promises.1.date', 'clamped_future_date'],
    ]);
    expect(normalizeReport(report('2025-01-01T01:00:00+01:00', []), now).report.startedAt).toBe(now.toISOString());
  });

  it('keeps the last entry of each promise name, in the order of those last entries', () => {
    const at = now.toISOString();
    const { report: r, warnings } = normalizeReport(report(at, [promise('x', at), promise('y', at), promise('x', at, true), promise('x', at, true)]), now);
    expect(r.promises.map((p) => [p.name, p.failed])).toEqual([
      ['y', false],
      ['x', true],
    ]);
    expect(warnings.map((w) => w.field)).toEqual(['body.promises.0.name', 'body.promises.2.name']);
    expect(warnings[0]!.message).toContain('body.promises.3');
    expect(normalizeReport(report(at, [promise('x', at)]), now).warnings).toEqual([]);
  });
});
