// Views of stored records: colours right before an event, the lazy sweep key of heartbeats.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMPUTER_GREEN_MS, computerColour } from '../../functions/domain/colours.ts';
import { colourBefore, heartbeatSweepKey, SWEEP_KEY_SLACK_MS } from '../../functions/domain/transitions.ts';

const T0 = Date.UTC(2025, 5, 1, 12);
const min = 60_000;

describe('heartbeatSweepKey', () => {
  it('keeps a key far enough ahead, moves a near, missing or changed one', () => {
    const at = new Date(T0);
    const next = new Date(T0 + COMPUTER_GREEN_MS);
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(heartbeatSweepKey(iso(T0 + 4 * min), false, at, next)).toBeUndefined();
    expect(heartbeatSweepKey(iso(T0 + SWEEP_KEY_SLACK_MS), false, at, next)).toBeUndefined();
    expect(heartbeatSweepKey(iso(T0 + SWEEP_KEY_SLACK_MS - 1), false, at, next)).toBe(next.toISOString());
    expect(heartbeatSweepKey(null, false, at, next)).toBe(next.toISOString());
    expect(heartbeatSweepKey(iso(T0 + 4 * min), true, at, next)).toBe(next.toISOString());
    // A key later than the real change (e.g. the orange → red key) is never kept.
    expect(heartbeatSweepKey(iso(T0 + 50 * min), false, at, next)).toBe(next.toISOString());
    expect(heartbeatSweepKey(iso(T0 + 4 * min), false, at, null)).toBeNull();
    expect(heartbeatSweepKey('garbage', false, at, next)).toBe(next.toISOString());
  });

  it('over any heartbeat sequence: the key is never later than the colour change, never due right after a heartbeat, and moves rarely at 60 s', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1_000, max: 10 * min }), { minLength: 1, maxLength: 60 }), (gaps) => {
        let t = T0;
        let key: string | null = null;
        let moves = 0;
        for (const gap of gaps) {
          t += gap;
          const at = new Date(t);
          const v = computerColour(at, at);
          const k = heartbeatSweepKey(key, false, at, v.nextChangeAt);
          if (k !== undefined) {
            moves++;
            key = k;
          }
          if (!key) throw new Error('a green computer must stay in the sweep index');
          // never later than the real green → orange change...
          expect(Date.parse(key)).toBeLessThanOrEqual(t + COMPUTER_GREEN_MS);
          // ...and not due before the computer has been silent for the slack.
          expect(Date.parse(key) - t).toBeGreaterThanOrEqual(SWEEP_KEY_SLACK_MS);
        }
        expect(moves).toBeGreaterThanOrEqual(1);
      }),
    );
  });

  it('with a heartbeat every 60 s the key moves once in four heartbeats', () => {
    let key: string | null = null;
    let moves = 0;
    for (let i = 0; i < 20; i++) {
      const at = new Date(T0 + i * min);
      const k = heartbeatSweepKey(key, false, at, computerColour(at, at).nextChangeAt);
      if (k !== undefined) {
        moves++;
        key = k;
      }
    }
    expect(moves).toBe(5);
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
