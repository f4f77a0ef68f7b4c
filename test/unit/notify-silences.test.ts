import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type SilenceRecord,
  pickSilence,
  silenceActive,
  silenceCovers,
  silenceEndsAt,
  silenceMatches,
  silenceView,
} from '../../functions/domain/silences.ts';
import { Silence } from '../../protocol/events.ts';

const T0 = Date.UTC(2025, 4, 1, 10);
const iso = (ms: number) => new Date(ms).toISOString();
const H = 3_600_000;

const silence = (over: Partial<SilenceRecord> = {}): SilenceRecord => ({
  silenceId: 's1',
  match: { instanceTreeId: 'tree-1' },
  startsAt: iso(T0),
  endsAt: iso(T0 + 2 * H),
  reason: 'upgrade',
  endedAt: null,
  ...over,
});
const partitionEvent = { computerId: 'C1', partitionId: 'p1', instanceTreeId: 'tree-1' };

describe('silence window', () => {
  it('active iff startsAt <= t < endsAt (boundaries)', () => {
    const s = silence();
    expect(silenceActive(s, new Date(T0 - 1))).toBe(false);
    expect(silenceActive(s, new Date(T0))).toBe(true);
    expect(silenceActive(s, new Date(T0 + 2 * H - 1))).toBe(true);
    expect(silenceActive(s, new Date(T0 + 2 * H))).toBe(false);
  });
  it('a DELETEd silence is over from endedAt on', () => {
    const s = silence({ endedAt: iso(T0 + H) });
    expect(silenceActive(s, new Date(T0 + H - 1))).toBe(true);
    expect(silenceActive(s, new Date(T0 + H))).toBe(false);
    expect(silenceEndsAt(s).getTime()).toBe(T0 + H);
    expect(silenceEndsAt(silence({ endedAt: iso(T0 + 5 * H) })).getTime()).toBe(T0 + 2 * H);
    expect(silenceEndsAt(silence()).getTime()).toBe(T0 + 2 * H);
  });
  it('property: active exactly on [startsAt, min(endsAt, endedAt))', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 * H }),
        fc.integer({ min: 1, max: 10 * H }),
        fc.option(fc.integer({ min: -H, max: 12 * H })),
        fc.integer({ min: -2 * H, max: 14 * H }),
        (start, len, ended, t) => {
          const s = silence({
            startsAt: iso(T0 + start),
            endsAt: iso(T0 + start + len),
            endedAt: ended === null ? null : iso(T0 + ended),
          });
          const end = Math.min(start + len, ended === null ? Number.POSITIVE_INFINITY : ended);
          expect(silenceActive(s, new Date(T0 + t))).toBe(t >= start && t < end);
        },
      ),
    );
  });
  it('compares instants given with offsets', () => {
    const s = silence({ startsAt: '2025-05-01T12:00:00+02:00', endsAt: '2025-05-01T13:00:00+02:00' });
    expect(silenceActive(s, new Date('2025-05-01T10:30:00Z'))).toBe(true);
    expect(silenceActive(s, new Date('2025-05-01T11:00:00Z'))).toBe(false);
  });
});

describe('silence match', () => {
  it('by tree: the events naming the tree, never a computer event', () => {
    const m = { instanceTreeId: 'tree-1' };
    expect(silenceCovers(m, partitionEvent)).toBe(true);
    expect(silenceCovers(m, { ...partitionEvent, instanceTreeId: 'tree-2' })).toBe(false);
    expect(silenceCovers(m, { computerId: 'C1' })).toBe(false);
  });
  it('by computer: the computer and its partitions', () => {
    const m = { computerId: 'C1' };
    expect(silenceCovers(m, { computerId: 'C1' })).toBe(true);
    expect(silenceCovers(m, partitionEvent)).toBe(true);
    expect(silenceCovers(m, { ...partitionEvent, computerId: 'C2' })).toBe(false);
  });
  it('by partition: that partition only', () => {
    const m = { partitionId: 'p1' };
    expect(silenceCovers(m, partitionEvent)).toBe(true);
    expect(silenceCovers(m, { ...partitionEvent, partitionId: 'p10' })).toBe(false);
    expect(silenceCovers(m, { computerId: 'C1' })).toBe(false);
  });
  it('an empty match covers nothing', () => {
    expect(silenceCovers({}, partitionEvent)).toBe(false);
  });
  it('matches = covers and active', () => {
    expect(silenceMatches(silence(), partitionEvent, new Date(T0 + H))).toBe(true);
    expect(silenceMatches(silence(), partitionEvent, new Date(T0 + 3 * H))).toBe(false);
    expect(silenceMatches(silence({ match: { partitionId: 'p2' } }), partitionEvent, new Date(T0 + H))).toBe(false);
  });
});

describe('pick among many', () => {
  const t = new Date(T0 + H);
  it('none → null; the one ending last wins; ties by id', () => {
    expect(pickSilence([], partitionEvent, t)).toBeNull();
    const a = silence({ silenceId: 'a', endsAt: iso(T0 + 3 * H) });
    const b = silence({ silenceId: 'b', match: { computerId: 'C1' }, endsAt: iso(T0 + 5 * H) });
    const c = silence({ silenceId: 'c', match: { partitionId: 'other' }, endsAt: iso(T0 + 9 * H) });
    const d = silence({ silenceId: 'd', endsAt: iso(T0 + 9 * H), endedAt: iso(T0 + H / 2) });
    expect(pickSilence([a, b, c, d], partitionEvent, t)?.silenceId).toBe('b');
    const b2 = silence({ silenceId: 'a2', endsAt: iso(T0 + 5 * H) });
    expect(pickSilence([b, b2], partitionEvent, t)?.silenceId).toBe('a2');
  });
  it('property: the answer matches, is maximal, and does not depend on list order', () => {
    const sArb = fc.record({
      silenceId: fc.stringMatching(/^[a-z]{1,4}$/),
      match: fc.oneof(
        fc.constantFrom('C1', 'C2').map((computerId) => ({ computerId })),
        fc.constantFrom('p1', 'p2').map((partitionId) => ({ partitionId })),
        fc.constantFrom('tree-1', 'tree-2').map((instanceTreeId) => ({ instanceTreeId })),
      ),
      start: fc.integer({ min: 0, max: 4 * H }),
      len: fc.integer({ min: 1, max: 4 * H }),
      ended: fc.option(fc.integer({ min: 0, max: 8 * H })),
    });
    fc.assert(
      fc.property(fc.array(sArb, { maxLength: 8 }), fc.integer({ min: 0, max: 8 * H }), (raw, at) => {
        const list: SilenceRecord[] = raw.map((r) => ({
          silenceId: r.silenceId,
          match: r.match,
          startsAt: iso(T0 + r.start),
          endsAt: iso(T0 + r.start + r.len),
          reason: 'r',
          endedAt: r.ended === null ? null : iso(T0 + r.ended),
        }));
        const when = new Date(T0 + at);
        const picked = pickSilence(list, partitionEvent, when);
        const matching = list.filter((s) => silenceMatches(s, partitionEvent, when));
        if (matching.length === 0) {
          expect(picked).toBeNull();
          return;
        }
        expect(picked).not.toBeNull();
        expect(silenceMatches(picked!, partitionEvent, when)).toBe(true);
        for (const s of matching) expect(silenceEndsAt(picked!).getTime()).toBeGreaterThanOrEqual(silenceEndsAt(s).getTime());
        expect(pickSilence([...list].reverse(), partitionEvent, when)?.silenceId).toBe(picked!.silenceId);
      }),
    );
  });
});

describe('view', () => {
  it('computes active at the time asked and matches the wire schema', () => {
    const rec = { ...silence(), createdAt: iso(T0 - H), updatedAt: iso(T0 - H) };
    const v = silenceView(rec, new Date(T0 + H));
    expect(Silence.parse(v)).toEqual(v);
    expect(v.active).toBe(true);
    expect(silenceView(rec, new Date(T0 + 2 * H)).active).toBe(false);
    expect(silenceView({ ...rec, endedAt: iso(T0 + 1) }, new Date(T0 + H)).active).toBe(false);
  });
});
