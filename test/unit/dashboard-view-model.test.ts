import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  chartSeries,
  formatDuration,
  formatShortTime,
  formatTime,
  timeAgo,
} from '../../functions/dashboard/view-model.ts';

const NOW = new Date('2025-11-25T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

describe('timeAgo', () => {
  test.each([
    [undefined, 'never'],
    [null, 'never'],
    ['', 'never'],
    ['not a date', 'never'],
    [ago(0), 'just now'],
    [ago(4_999), 'just now'],
    [ago(42_000), '42 s ago'],
    [ago(3 * 60_000), '3 min ago'],
    [ago(3 * 60_000 + 59_000), '3 min ago'],
    [ago(59 * 60_000), '59 min ago'],
    [ago(2 * 3_600_000), '2 h ago'],
    [ago(26 * 3_600_000), '26 h ago'],
    [ago(3 * 86_400_000), '3 d ago'],
    [ago(-120_000), 'in 2 min'],
  ])('%s → %s', (at, expected) => {
    expect(timeAgo(at, NOW)).toBe(expected);
  });

  test('accepts Date and epoch numbers', () => {
    expect(timeAgo(new Date(NOW.getTime() - 600_000), NOW)).toBe('10 min ago');
    expect(timeAgo(NOW.getTime() - 7_200_000, NOW)).toBe('2 h ago');
  });
});

test('formatDuration', () => {
  expect(formatDuration(undefined)).toBe('–');
  expect(formatDuration(-1)).toBe('–');
  expect(formatDuration(12.4)).toBe('12 ms');
  expect(formatDuration(12_345)).toBe('12.3 s');
  expect(formatDuration(245_000)).toBe('4 min 05 s');
});

test('formatTime is UTC and tolerant', () => {
  expect(formatShortTime('2025-11-25T13:04:05+01:00')).toBe('11-25 12:04Z');
  expect(formatShortTime('2025-11-25T13:04:05+01:00', 30 * 60_000)).toBe('12:04:05Z');
  expect(formatTime('2025-11-25T13:04:05+01:00')).toBe('2025-11-25 12:04:05Z');
  expect(formatTime(undefined)).toBe('–');
  expect(formatTime('garbage')).toBe('–');
});

describe('chartSeries', () => {
  const history = [
    // newest first, as the API returns it
    { date: '2025-11-25T11:30:00.000Z', failed: true, executionTimeMs: 400, message: 'boom' },
    { date: '2025-11-25T11:20:00.000Z', failed: false, executionTimeMs: 100 },
    { date: '2025-11-25T11:00:00.000Z', failed: false, executionTimeMs: 200 },
  ];

  test('one point per entry, oldest left, y scaled to the slowest run', () => {
    const s = chartSeries(history, { width: 344, height: 90 });
    expect(s.points).toHaveLength(3);
    expect(s.points.map((p) => p.date)).toEqual([
      '2025-11-25T11:00:00.000Z',
      '2025-11-25T11:20:00.000Z',
      '2025-11-25T11:30:00.000Z',
    ]);
    // x spread by time: 0, 2/3, 1 of the plotting width (left 44, right 338)
    expect(s.points.map((p) => p.x)).toEqual([44, 240, 338]);
    // the slowest (400 ms) at the top, others proportionally lower
    expect(s.points[2]!.y).toBe(s.top);
    expect(s.points[1]!.y).toBeCloseTo(s.bottom - (100 / 400) * (s.bottom - s.top), 0);
    expect(s.maxExecutionTimeMs).toBe(400);
    expect(s.kept).toBe(2);
    expect(s.failed).toBe(1);
    expect(s.points[2]!.failed).toBe(true);
    expect(s.path).toBe(`M44 ${s.points[0]!.y} L240 ${s.points[1]!.y} L338 ${s.top}`);
    expect(s.firstDate).toBe('2025-11-25T11:00:00.000Z');
    expect(s.lastDate).toBe('2025-11-25T11:30:00.000Z');
  });

  test('empty, single, equal dates and bad values', () => {
    expect(chartSeries([]).points).toEqual([]);
    expect(chartSeries([]).path).toBe('');
    const one = chartSeries([{ date: 'x', failed: false, executionTimeMs: Number.NaN }]);
    expect(one.points).toHaveLength(1);
    expect(one.points[0]!.executionTimeMs).toBe(0);
    expect(one.points[0]!.y).toBe(one.bottom);
    const same = chartSeries([
      { date: '2025-11-25T11:00:00Z', failed: false, executionTimeMs: 1 },
      { date: '2025-11-25T11:00:00Z', failed: true, executionTimeMs: 1 },
    ]);
    expect(same.points[0]!.x).toBe(same.left);
    expect(same.points[1]!.x).toBe(same.right);
  });

  test('property: every entry gives exactly one point inside the plotting area', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            date: fc.oneof(
              fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
              fc.string(),
            ),
            failed: fc.boolean(),
            executionTimeMs: fc.oneof(fc.double({ min: 0, max: 1e7, noNaN: true }), fc.constant(Number.NaN)),
          }),
          { maxLength: 60 },
        ),
        (h) => {
          const s = chartSeries(h);
          expect(s.points).toHaveLength(h.length);
          expect(s.kept + s.failed).toBe(h.length);
          for (const p of s.points) {
            expect(p.x).toBeGreaterThanOrEqual(s.left);
            expect(p.x).toBeLessThanOrEqual(s.right);
            expect(p.y).toBeGreaterThanOrEqual(s.top - 0.1);
            expect(p.y).toBeLessThanOrEqual(s.bottom + 0.1);
          }
        },
      ),
    );
  });
});
