import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bangAcceptedEventId,
  bangRejectedEventId,
  computerColourEventId,
  eventId,
  flappingEventId,
  partitionColourEventId,
} from '../../functions/notify/event-id.ts';
import { EVENT_ID_PATTERN, EVENT_TYPES, EventId } from '../../protocol/events.ts';
import { Id } from '../../protocol/index.ts';

const idArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}$/);
const typeArb = fc.constantFrom(...EVENT_TYPES);
const isoArb = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((n) => new Date(n).toISOString());

describe('event ids', () => {
  it('are ev_ + base64url SHA-256 of the JSON of their inputs, valid ids everywhere', () => {
    const id = eventId('partition.colour', 'p1', 'a', 'b');
    const expected = createHash('sha256').update(JSON.stringify(['vigil-event-v1', 'partition.colour', 'p1', 'a', 'b'])).digest('base64url');
    expect(id).toBe(`ev_${expected}`);
    expect(id).toMatch(EVENT_ID_PATTERN);
    expect(EventId.safeParse(id).success).toBe(true);
    // usable as a vigil Id (sort keys, headers, URLs)
    expect(Id.safeParse(id).success).toBe(true);
  });

  it('property: stable for the same inputs', () => {
    fc.assert(
      fc.property(typeArb, idArb, fc.array(fc.string(), { maxLength: 4 }), (type, entity, parts) => {
        expect(eventId(type, entity, ...parts)).toBe(eventId(type, entity, ...parts));
      }),
    );
  });

  it('property: distinct inputs give distinct ids, even when their concatenations agree', () => {
    fc.assert(
      fc.property(
        fc.tuple(typeArb, idArb, fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 })),
        fc.tuple(typeArb, idArb, fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 })),
        ([t1, e1, p1], [t2, e2, p2]) => {
          const same = t1 === t2 && e1 === e2 && JSON.stringify(p1) === JSON.stringify(p2);
          expect(eventId(t1, e1, ...p1) === eventId(t2, e2, ...p2)).toBe(same);
        },
      ),
    );
    expect(eventId('bang.accepted', 'a', 'bc')).not.toBe(eventId('bang.accepted', 'ab', 'c'));
    expect(eventId('bang.accepted', 'a', 'b', 'c')).not.toBe(eventId('bang.accepted', 'a', 'b,c'));
  });

  it('colour events: same change (any offset spelling) → same id; another colour, time, entity or mark → another id', () => {
    const since = '2025-05-01T10:00:00.000Z';
    expect(computerColourEventId('C1', 'red', since)).toBe(computerColourEventId('C1', 'red', '2025-05-01T12:00:00+02:00'));
    expect(computerColourEventId('C1', 'red', since)).not.toBe(computerColourEventId('C1', 'orange', since));
    expect(computerColourEventId('C1', 'red', since)).not.toBe(computerColourEventId('C2', 'red', since));
    expect(computerColourEventId('C1', 'red', since)).not.toBe(computerColourEventId('C1', 'red', '2025-05-01T10:00:00.001Z'));
    const p = partitionColourEventId('p1', 'green', 'red', since, '');
    expect(p).toBe(partitionColourEventId('p1', 'green', 'red', '2025-05-01T10:00:00Z', ''));
    expect(p).not.toBe(partitionColourEventId('p1', 'green', 'red', since, 'suppressed:bang:b1'));
    expect(p).not.toBe(partitionColourEventId('p1', 'orange', 'red', since, ''));
    // a computer and a partition with the same id never share an event id
    expect(computerColourEventId('x', 'red', since)).not.toBe(partitionColourEventId('x', 'green', 'red', since, ''));
  });

  it('property: colour changes of one entity over time never collide', () => {
    fc.assert(
      fc.property(fc.uniqueArray(isoArb, { minLength: 2, maxLength: 20 }), (times) => {
        const ids = times.map((t, i) => computerColourEventId('C1', i % 2 ? 'red' : 'green', t));
        expect(new Set(ids).size).toBe(ids.length);
      }),
    );
  });

  it('bangs: one id per accepted bang, one per rejection per UTC day', () => {
    expect(bangAcceptedEventId('p1', 'b1')).toBe(bangAcceptedEventId('p1', 'b1'));
    expect(bangAcceptedEventId('p1', 'b1')).not.toBe(bangAcceptedEventId('p2', 'b1'));
    expect(bangRejectedEventId('p1', 'b1', '2025-05-01')).toBe(bangRejectedEventId('p1', 'b1', '2025-05-01'));
    expect(bangRejectedEventId('p1', 'b1', '2025-05-01')).not.toBe(bangRejectedEventId('p1', 'b1', '2025-05-02'));
    expect(bangRejectedEventId('p1', 'b1', '2025-05-01')).not.toBe(bangAcceptedEventId('p1', 'b1'));
  });

  it('flapping: started and stopped at the same state differ; same state → same id', () => {
    const at = '2025-05-01T10:00:00.000Z';
    expect(flappingEventId('flapping.started', 'p1', at)).toBe(flappingEventId('flapping.started', 'p1', '2025-05-01T10:00:00Z'));
    expect(flappingEventId('flapping.started', 'p1', at)).not.toBe(flappingEventId('flapping.stopped', 'p1', at));
  });
});
