import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FLAP_SAMPLE_INTERVAL_MS,
  FLAP_START_PERCENT,
  FLAP_STOP_PERCENT,
  FLAP_TRANSITIONS,
  FLAP_WINDOW,
  type FlapState,
  flapThreshold,
  nextFlapSampleAt,
  nextFlapping,
  observeState,
  percentStateChange,
  recordState,
  transitionWeight,
} from '../../functions/domain/flapping.ts';
import type { Colour } from '../../protocol/index.ts';

const colourArb = fc.constantFrom<Colour>('green', 'orange', 'red');
const historyArb = fc.array(fc.constantFrom('g', 'o', 'r'), { maxLength: FLAP_WINDOW }).map((a) => a.join(''));
const fresh = (): FlapState => ({ history: '', flapping: false });

function feed(state: FlapState, colours: Colour[]) {
  const steps: ReturnType<typeof observeState>[] = [];
  let s = state;
  for (const c of colours) {
    const r = observeState(s, c);
    steps.push(r);
    s = r.state;
  }
  return { state: s, steps };
}
const alternate = (n: number, first: Colour = 'red'): Colour[] =>
  Array.from({ length: n }, (_, i) => (i % 2 === 0 ? first : first === 'red' ? 'green' : 'red'));

describe('history', () => {
  it('keeps the last 21 states, newest last, one character each', () => {
    let h = '';
    for (const c of ['green', 'red', 'orange'] as const) h = recordState(h, c);
    expect(h).toBe('gro');
    fc.assert(
      fc.property(fc.array(colourArb, { maxLength: 60 }), (cs) => {
        let hh = '';
        for (const c of cs) hh = recordState(hh, c);
        expect(hh.length).toBe(Math.min(cs.length, FLAP_WINDOW));
        expect(hh).toBe(cs.map((c) => c[0]).join('').slice(-FLAP_WINDOW));
      }),
    );
  });
  it('fits a DynamoDB item attribute of a few bytes, survives garbage', () => {
    expect(recordState('x'.repeat(5000), 'red')).toBe('r');
    expect(recordState('g?r', 'green')).toBe('grg');
    expect(percentStateChange('grgrgr xyz!')).toBe(percentStateChange('grgrgr'));
  });
});

describe('percent state change', () => {
  it('weights rise linearly from 0.8 (oldest) to 1.2 (newest) and average 1', () => {
    expect(transitionWeight(1)).toBeCloseTo(0.8, 12);
    expect(transitionWeight(FLAP_TRANSITIONS)).toBeCloseTo(1.2, 12);
    let sum = 0;
    for (let x = 1; x <= FLAP_TRANSITIONS; x++) {
      sum += transitionWeight(x);
      if (x > 1) expect(transitionWeight(x)).toBeGreaterThan(transitionWeight(x - 1));
    }
    expect(sum).toBeCloseTo(FLAP_TRANSITIONS, 9);
  });
  it('known values', () => {
    expect(percentStateChange('')).toBe(0);
    expect(percentStateChange('r')).toBe(0);
    expect(percentStateChange('g'.repeat(21))).toBe(0);
    expect(percentStateChange('gr'.repeat(10) + 'g')).toBe(100);
    // one change, newest transition: 1.2 / 20
    expect(percentStateChange(`${'g'.repeat(20)}r`)).toBe(6);
    // one change, oldest transition: 0.8 / 20
    expect(percentStateChange(`g${'r'.repeat(20)}`)).toBe(4);
    // orange → red is a change too
    expect(percentStateChange('or')).toBe(6);
  });
  it('is always within [0, 100]', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), historyArb, (junk, h) => {
        for (const x of [junk, h]) {
          const p = percentStateChange(x);
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(100);
        }
      }),
    );
  });
  it('missing older states count as unchanged (padding with the oldest state changes nothing)', () => {
    fc.assert(
      fc.property(historyArb.filter((h) => h.length > 0), fc.nat(FLAP_WINDOW), (h, k) => {
        const padded = (h[0]!.repeat(k) + h).slice(-FLAP_WINDOW);
        if (padded.length === h.length + k) expect(percentStateChange(padded)).toBe(percentStateChange(h));
      }),
    );
  });
  it('a recent change weighs more than an older one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: FLAP_TRANSITIONS - 1 }), (x) => {
        // a single change at transition x vs x + 1
        const at = (pos: number) => 'g'.repeat(pos) + 'r'.repeat(FLAP_WINDOW - pos);
        expect(percentStateChange(at(x + 1))).toBeGreaterThan(percentStateChange(at(x)));
      }),
    );
  });
});

describe('flapping', () => {
  it('an alternating partition starts flapping once, at the 9th change, and never again while flapping', () => {
    fc.assert(
      fc.property(fc.integer({ min: 9, max: 200 }), colourArb, (n, stable) => {
        const { steps } = feed(fresh(), [stable, ...alternate(n, stable === 'red' ? 'green' : 'red')]);
        const starts = steps.flatMap((s, i) => (s.transition === 'started' ? [i] : []));
        expect(starts).toEqual([9]);
        expect(steps.some((s) => s.transition === 'stopped')).toBe(false);
        expect(steps[9]!.percent).toBeGreaterThan(FLAP_START_PERCENT);
        expect(steps[8]!.percent).toBeLessThanOrEqual(FLAP_START_PERCENT);
      }),
    );
  });
  it('a stable run stops it (at most 20 stable states), exactly once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 9, max: 60 }), colourArb, fc.integer({ min: 20, max: 40 }), (n, final, m) => {
        const flapping = feed(fresh(), alternate(n + 1)).state;
        expect(flapping.flapping).toBe(true);
        const { steps, state } = feed(flapping, Array(m).fill(final));
        const stops = steps.flatMap((s, i) => (s.transition === 'stopped' ? [i] : []));
        expect(stops).toHaveLength(1);
        expect(stops[0]).toBeLessThan(20);
        expect(state.flapping).toBe(false);
        expect(steps.some((s) => s.transition === 'started')).toBe(false);
      }),
    );
  });
  it('after a full window of flapping, 15 stable states stop it', () => {
    const full = feed(fresh(), alternate(21)).state;
    expect(percentStateChange(full.history)).toBe(100);
    expect(full.history.at(-1)).toBe('r');
    const { steps } = feed(full, Array(20).fill('red'));
    expect(steps.findIndex((s) => s.transition === 'stopped')).toBe(14);
  });
  it('hysteresis: starts only above 50 %, stops only below 25 %, otherwise keeps its state', () => {
    fc.assert(
      fc.property(fc.array(colourArb, { maxLength: 150 }), fc.boolean(), historyArb, (colours, startFlapping, h) => {
        let s: FlapState = { history: h, flapping: startFlapping };
        for (const c of colours) {
          const r = observeState(s, c);
          if (r.transition === 'started') {
            expect(s.flapping).toBe(false);
            expect(r.percent).toBeGreaterThan(FLAP_START_PERCENT);
          } else if (r.transition === 'stopped') {
            expect(s.flapping).toBe(true);
            expect(r.percent).toBeLessThan(FLAP_STOP_PERCENT);
          } else {
            expect(r.state.flapping).toBe(s.flapping);
            if (s.flapping) expect(r.percent).toBeGreaterThanOrEqual(FLAP_STOP_PERCENT);
            else expect(r.percent).toBeLessThanOrEqual(FLAP_START_PERCENT);
          }
          expect(r.state.flapping).toBe(r.transition === 'started' ? true : r.transition === 'stopped' ? false : s.flapping);
          s = r.state;
        }
      }),
    );
  });
  it('between the thresholds nothing changes (both directions)', () => {
    // 8 changes at the newest transitions: between 25 % and 50 %
    const h = `${'g'.repeat(13)}rgrgrgrg`;
    const p = percentStateChange(h);
    expect(p).toBeGreaterThan(FLAP_STOP_PERCENT);
    expect(p).toBeLessThan(FLAP_START_PERCENT);
    expect(nextFlapping({ history: h, flapping: false })).toEqual({ flapping: false, transition: null, percent: p });
    expect(nextFlapping({ history: h, flapping: true })).toEqual({ flapping: true, transition: null, percent: p });
  });
  it('thresholds reported by events', () => {
    expect(flapThreshold('started')).toBe(FLAP_START_PERCENT);
    expect(flapThreshold('stopped')).toBe(FLAP_STOP_PERCENT);
    expect(FLAP_STOP_PERCENT).toBeLessThan(FLAP_START_PERCENT);
  });
});

describe('sampling while flapping', () => {
  const now = new Date('2025-05-01T10:00:00Z');
  it('only flapping partitions are sampled, one interval after the last recorded state', () => {
    expect(nextFlapSampleAt(false, now, now)).toBeNull();
    expect(nextFlapSampleAt(true, null, now)).toEqual(now);
    expect(nextFlapSampleAt(true, new Date(now.getTime() - 10_000), now)?.getTime()).toBe(now.getTime() - 10_000 + FLAP_SAMPLE_INTERVAL_MS);
  });
});
