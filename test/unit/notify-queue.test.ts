import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GIVE_UP_AFTER_MS } from '../../functions/notify/backoff.ts';
import type { DeliveryOutcome } from '../../functions/notify/deliver.ts';
import {
  type PendingDelivery,
  afterAttempt,
  backlogOf,
  eligible,
  heads,
  lease,
  newDelivery,
  nextWakeAt,
  orderingKey,
  sequenceKey,
} from '../../functions/notify/queue-rules.ts';
import type { VigilEvent } from '../../protocol/events.ts';

const T0 = Date.UTC(2025, 4, 1, 10);
const iso = (ms: number) => new Date(ms).toISOString();

const item = (over: Partial<PendingDelivery>): PendingDelivery => ({
  channelId: 'ch',
  key: 'p:p1',
  seq: sequenceKey(iso(T0), 0, 'ev_a'),
  eventId: 'ev_a',
  attempts: 0,
  firstFailureAt: null,
  nextAttemptAt: iso(T0),
  leasedUntil: null,
  ...over,
});

describe('keys and order', () => {
  it('ordering key: partition, else computer, else tree, else the event itself', () => {
    expect(orderingKey({ eventId: 'e', partitionId: 'p1', computerId: 'C1', instanceTreeId: 't' })).toBe('p:p1');
    expect(orderingKey({ eventId: 'e', computerId: 'C1' })).toBe('c:C1');
    expect(orderingKey({ eventId: 'e', instanceTreeId: 't' })).toBe('t:t');
    expect(orderingKey({ eventId: 'e' })).toBe('e:e');
  });
  it('property: sequence keys sort by time, then by position within one observation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: T0, max: T0 + 10 * 86_400_000 }),
        fc.integer({ min: T0, max: T0 + 10 * 86_400_000 }),
        fc.nat(9999),
        fc.nat(9999),
        (t1, t2, o1, o2) => {
          const a = sequenceKey(iso(t1), o1, 'ev_z');
          const b = sequenceKey(iso(t2), o2, 'ev_a');
          if (t1 !== t2) expect(a < b).toBe(t1 < t2);
          else if (o1 !== o2) expect(a < b).toBe(o1 < o2);
        },
      ),
    );
    // offsets are normalised
    expect(sequenceKey('2025-05-01T12:00:00+02:00', 1, 'e')).toBe(sequenceKey('2025-05-01T10:00:00.000Z', 1, 'e'));
  });
  it('newDelivery: due now, nothing tried yet', () => {
    const e = { eventId: 'ev_x', at: iso(T0), partitionId: 'p9', computerId: 'C' } as VigilEvent;
    expect(newDelivery('ch', e, 2, new Date(T0 + 5))).toEqual({
      channelId: 'ch',
      key: 'p:p9',
      seq: sequenceKey(iso(T0), 2, 'ev_x'),
      eventId: 'ev_x',
      attempts: 0,
      firstFailureAt: null,
      nextAttemptAt: iso(T0 + 5),
      leasedUntil: null,
    });
  });
});

describe('eligible', () => {
  const now = new Date(T0 + 1000);
  it('only the head of each (channel, key) queue, when due and free', () => {
    const a1 = item({ eventId: 'a1', seq: sequenceKey(iso(T0), 0, 'a1') });
    const a2 = item({ eventId: 'a2', seq: sequenceKey(iso(T0 + 1), 0, 'a2') });
    const b1 = item({ eventId: 'b1', key: 'p:p2', seq: sequenceKey(iso(T0 + 2), 0, 'b1') });
    const c1 = item({ eventId: 'c1', channelId: 'other', seq: sequenceKey(iso(T0 + 3), 0, 'c1') });
    expect(eligible([a2, c1, b1, a1], now).map((d) => d.eventId)).toEqual(['a1', 'b1', 'c1']);
    expect(heads([a2, a1]).map((d) => d.eventId)).toEqual(['a1']);
    // a head that is not due blocks its queue, not the others
    const late = { ...a1, nextAttemptAt: iso(T0 + 60_000) };
    expect(eligible([late, a2, b1], now).map((d) => d.eventId)).toEqual(['b1']);
    // a leased head blocks its queue until the lease ends
    const held = lease(a1, now, 30_000);
    expect(eligible([held, a2], now)).toEqual([]);
    expect(eligible([held, a2], new Date(T0 + 31_000)).map((d) => d.eventId)).toEqual(['a1']);
  });
  it('earliest first, then by seq; limit', () => {
    const x = item({ eventId: 'x', key: 'k1', nextAttemptAt: iso(T0 + 500) });
    const y = item({ eventId: 'y', key: 'k2', nextAttemptAt: iso(T0 + 100) });
    const z = item({ eventId: 'z', key: 'k3', nextAttemptAt: iso(T0 + 100), seq: sequenceKey(iso(T0 - 1), 0, 'z') });
    expect(eligible([x, y, z], now).map((d) => d.eventId)).toEqual(['z', 'y', 'x']);
    expect(eligible([x, y, z], now, 2).map((d) => d.eventId)).toEqual(['z', 'y']);
  });
  it('nextWakeAt: the earliest head time, leases included; backlog per channel', () => {
    expect(nextWakeAt([])).toBeNull();
    const a = item({ key: 'k1', nextAttemptAt: iso(T0 + 900) });
    const b = item({ key: 'k2', nextAttemptAt: iso(T0 + 100), leasedUntil: iso(T0 + 5000) });
    const behind = item({ key: 'k1', nextAttemptAt: iso(T0), seq: 'zzzz' });
    expect(nextWakeAt([a, b, behind])?.getTime()).toBe(T0 + 900);
    expect(backlogOf([a, b, behind, item({ channelId: 'x' })], 'ch')).toBe(3);
  });
});

describe('afterAttempt', () => {
  const now = new Date(T0 + 10_000);
  const d = item({ leasedUntil: iso(T0 + 60_000) });
  it('delivered → off the queue, ok', () => {
    expect(afterAttempt(d, { result: 'delivered', status: 204, durationMs: 3 }, now)).toEqual({
      action: 'remove',
      dead: false,
      lastDelivery: { at: iso(T0 + 10_000), eventId: 'ev_a', ok: true, status: 204 },
    });
  });
  it('dead → off the queue, with the error', () => {
    const r = afterAttempt(d, { result: 'dead', status: 410, error: 'HTTP 410: gone', durationMs: 3 }, now);
    expect(r).toEqual({ action: 'remove', dead: true, lastDelivery: { at: iso(T0 + 10_000), eventId: 'ev_a', ok: false, status: 410, error: 'HTTP 410: gone' } });
  });
  it('retry → same place in its queue, later; the first failure time is kept', () => {
    const retry: DeliveryOutcome = { result: 'retry', error: 'network error: ECONNREFUSED', retryAfter: null, durationMs: 1 };
    const r1 = afterAttempt(d, retry, now, () => 0);
    expect(r1.action).toBe('reschedule');
    if (r1.action !== 'reschedule') return;
    expect(r1.item).toMatchObject({ attempts: 1, firstFailureAt: iso(T0 + 10_000), nextAttemptAt: iso(T0 + 15_000), leasedUntil: null, seq: d.seq });
    expect(r1.lastDelivery).toEqual({ at: iso(T0 + 10_000), eventId: 'ev_a', ok: false, error: 'network error: ECONNREFUSED' });
    const r2 = afterAttempt(r1.item, { ...retry, status: 429, retryAfter: new Date(T0 + 600_000) }, new Date(T0 + 15_000), () => 0);
    expect(r2.action === 'reschedule' && r2.item).toMatchObject({ attempts: 2, firstFailureAt: iso(T0 + 10_000), nextAttemptAt: iso(T0 + 600_000) });
  });
  it('retry past the give-up time → dead, saying so', () => {
    const old = item({ attempts: 120, firstFailureAt: iso(T0) });
    const r = afterAttempt(old, { result: 'retry', status: 503, error: 'HTTP 503', retryAfter: null, durationMs: 1 }, new Date(T0 + GIVE_UP_AFTER_MS));
    expect(r.action).toBe('remove');
    if (r.action === 'remove') {
      expect(r.dead).toBe(true);
      expect(r.lastDelivery.error).toMatch(/^gave up after 121 attempts since .*: HTTP 503$/);
      expect(r.lastDelivery.status).toBe(503);
    }
  });
});

describe('property: a simulated delivery loop never reorders a key and always drains', () => {
  const outcomeArb = fc.oneof(
    { weight: 4, arbitrary: fc.constant<DeliveryOutcome>({ result: 'delivered', status: 200, durationMs: 1 }) },
    { weight: 1, arbitrary: fc.constant<DeliveryOutcome>({ result: 'dead', status: 400, error: 'HTTP 400', durationMs: 1 }) },
    {
      weight: 4,
      arbitrary: fc.option(fc.integer({ min: 0, max: 7200 }), { freq: 3 }).map<DeliveryOutcome>((ra) => ({
        result: 'retry',
        status: 503,
        error: 'HTTP 503',
        retryAfter: ra === null ? null : new Date(0 + ra * 1000),
        durationMs: 1,
      })),
    },
  );
  it('holds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ channel: fc.constantFrom('c1', 'c2'), key: fc.constantFrom('p:a', 'p:b', 'c:x'), dt: fc.oneof(fc.constant(0), fc.nat(5000)) }), {
          minLength: 1,
          maxLength: 25,
        }),
        fc.infiniteStream(outcomeArb),
        fc.infiniteStream(fc.tuple(fc.nat(3), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }))),
        (enqueued, outcomes, choices) => {
          let now = T0;
          let pending: PendingDelivery[] = [];
          const expected = new Map<string, string[]>();
          enqueued.forEach((e, i) => {
            now += e.dt;
            const id = `ev_${i}`;
            // events recorded in the same millisecond are told apart by their ordinal
            const d = newDelivery(e.channel, { eventId: id, at: iso(now) } as VigilEvent, i, new Date(now));
            const q = { ...d, key: e.key };
            pending.push(q);
            expected.set(`${e.channel}|${e.key}`, [...(expected.get(`${e.channel}|${e.key}`) ?? []), id]);
          });
          const done = new Map<string, string[]>();
          const outIt = outcomes[Symbol.iterator]();
          const choiceIt = choices[Symbol.iterator]();
          for (let step = 0; pending.length > 0; step++) {
            expect(step).toBeLessThan(10_000);
            const [skip, r] = choiceIt.next().value as [number, number];
            const ready = eligible(pending, new Date(now));
            const seen = new Set(ready.map((d) => `${d.channelId}|${d.key}`));
            expect(seen.size).toBe(ready.length);
            for (const d of ready) {
              // nothing earlier of its queue is still pending
              expect(pending.some((o) => o.channelId === d.channelId && o.key === d.key && o.seq < d.seq)).toBe(false);
            }
            // the worker may take only some of them (concurrency limit)
            for (const d of ready.slice(0, Math.max(1, ready.length - skip))) {
              let o = outIt.next().value as DeliveryOutcome;
              if (o.result === 'retry' && o.retryAfter) o = { ...o, retryAfter: new Date(now + o.retryAfter.getTime()) };
              const res = afterAttempt(d, o, new Date(now), () => r);
              pending = pending.filter((x) => x !== d);
              if (res.action === 'reschedule') pending.push(res.item);
              else done.set(`${d.channelId}|${d.key}`, [...(done.get(`${d.channelId}|${d.key}`) ?? []), d.eventId]);
            }
            const wake = nextWakeAt(pending);
            if (wake) now = Math.max(now + 1, wake.getTime());
          }
          expect(done).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });
});
