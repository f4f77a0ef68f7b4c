// Views of stored records: colours right before an event, the lazy sweep key of partitions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computerColour } from '../../functions/domain/colours.ts';
import { colourBefore, lazySweepKey } from '../../functions/domain/transitions.ts';

const T0 = Date.UTC(2025, 5, 1, 12);
const min = 60_000;

describe('lazySweepKey (partitions)', () => {
  const iso = (ms: number) => new Date(ms).toISOString();
  it('keeps a stored key not later than the real change, moves a later one, adds a missing one', () => {
    const next = new Date(T0 + 60 * min);
    expect(lazySweepKey(iso(T0 + 10 * min), next)).toBeUndefined();
    expect(lazySweepKey(iso(T0 + 60 * min), next)).toBeUndefined();
    expect(lazySweepKey(iso(T0 + 61 * min), next)).toBe(next.toISOString());
    expect(lazySweepKey(null, next)).toBe(next.toISOString());
    // nothing changes by itself (a red partition): whatever key there is stays (the sweep drops it when due)
    expect(lazySweepKey(iso(T0), null)).toBeUndefined();
    expect(lazySweepKey(null, null)).toBeUndefined();
  });

  it('over any report sequence the key is never later than the real change, and moves at most once per max age', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1_000, max: 90 * min }), { minLength: 1, maxLength: 60 }), (gaps) => {
        const maxAge = 60 * min;
        let t = T0;
        let key: string | null = null;
        let moves = 0;
        for (const gap of gaps) {
          t += gap;
          // the sweep: a key come due is keyed to the real change (none if that has passed)
          if (key && Date.parse(key) <= t) key = null;
          const k = lazySweepKey(key, new Date(t + maxAge));
          if (k !== undefined) {
            moves++;
            key = k;
          }
          expect(key).not.toBeNull();
          expect(Date.parse(key as string)).toBeLessThanOrEqual(t + maxAge);
        }
        expect(moves).toBeLessThanOrEqual(1 + Math.floor((t - T0) / maxAge));
      }),
    );
  });
});

describe('colourBefore', () => {
  it('is the stored colour unless the rules say it changed since', () => {
    const stored = { colour: 'green' as const, colourSince: new Date(T0).toISOString() };
    const contact = new Date(T0);
    expect(colourBefore(stored, computerColour(contact, new Date(T0 + 4 * min)))).toBe(stored);
    // silent 2 h, never swept: red since contact + 1 h
    expect(colourBefore(stored, computerColour(contact, new Date(T0 + 120 * min)))).toEqual({
      colour: 'red',
      colourSince: new Date(T0 + 60 * min).toISOString(),
    });
  });
});
