import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bangAcceptedEvent, isSendable, observeComputer, observePartition, initialPartitionNotifyState } from '../../functions/notify/derive.ts';
import { type ChannelFilter, concernsTree, route } from '../../functions/notify/route.ts';
import { EVENT_TYPES, type EventType, type VigilEvent } from '../../protocol/events.ts';
import type { Colour } from '../../protocol/index.ts';

const at = '2025-05-01T10:00:00.000Z';
const all: ChannelFilter = { events: null, instanceTreeId: null };

function partitionEvent(over: Partial<VigilEvent> = {}): VigilEvent {
  const r = observePartition({
    partition: { partitionId: 'p1', computerId: 'C1', instanceTreeId: 't1' },
    before: 'green',
    after: { colour: 'red', reason: 'x', since: at },
    at,
    state: { ...initialPartitionNotifyState(), announced: 'green' },
    computerColour: 'green',
    bangInProgress: null,
    silences: [],
    baseUrl: 'http://m',
  });
  return { ...r.events[0]!, ...over } as VigilEvent;
}

function computerEvent(trees: string[]): VigilEvent {
  return observeComputer({
    computerId: 'C1',
    before: 'green',
    after: { colour: 'red', reason: 'no contact', since: at },
    at,
    partitions: trees.map((t, i) => ({ partitionId: `p${i}`, instanceTreeId: t, colour: 'green' as Colour })),
    silences: [],
    baseUrl: 'http://m',
  })!;
}

describe('route', () => {
  it('sends a plain event to a channel without filters', () => {
    expect(route(partitionEvent(), all)).toEqual({ action: 'send' });
  });

  it('skips types the channel does not take', () => {
    const d = route(partitionEvent(), { events: ['bang.accepted', 'computer.colour'], instanceTreeId: null });
    expect(d).toMatchObject({ action: 'skip', reason: 'type' });
    expect(route(partitionEvent(), { events: ['partition.colour'], instanceTreeId: null })).toEqual({ action: 'send' });
  });

  it('skips other trees; a computer event reaches the channels of its partitions trees', () => {
    expect(route(partitionEvent(), { events: null, instanceTreeId: 't2' })).toMatchObject({ action: 'skip', reason: 'tree' });
    expect(route(partitionEvent(), { events: null, instanceTreeId: 't1' })).toEqual({ action: 'send' });
    const c = computerEvent(['t1', 't3']);
    expect(route(c, { events: null, instanceTreeId: 't3' })).toEqual({ action: 'send' });
    expect(route(c, { events: null, instanceTreeId: 't2' })).toMatchObject({ action: 'skip', reason: 'tree' });
  });

  it('a computer event whose tree list was cut reaches every tree-filtered channel', () => {
    const c = computerEvent(Array.from({ length: 120 }, (_, i) => `tree-${String(i).padStart(3, '0')}`));
    expect(c.type === 'computer.colour' && c.data.instanceTreeIds.length).toBe(100);
    expect(concernsTree(c, 'tree-119')).toBe(true);
    expect(concernsTree(c, 'never-heard-of')).toBe(true);
  });

  it('record-only for silenced and suppressed events, with the reason', () => {
    const silenced = route(partitionEvent({ silenced: { silenceId: 's1', reason: 'upgrade' } }), all);
    expect(silenced).toEqual({ action: 'record-only', reason: 'silenced', message: 'silenced by s1: upgrade' });
    for (const [by, word] of [
      ['computer', /computer C1/],
      ['bang', /bang\.accepted event of bang C1/],
      ['flapping', /flapping/],
      ['announced', /last told/],
    ] as const) {
      const d = route(partitionEvent({ suppressed: { by, id: 'C1' } }), all);
      expect(d).toMatchObject({ action: 'record-only', reason: 'suppressed' });
      if (d.action === 'record-only') expect(d.message).toMatch(word);
    }
  });

  it('filters come first: a channel that does not take the event skips it even when held back', () => {
    const e = partitionEvent({ silenced: { silenceId: 's1', reason: 'r' } });
    expect(route(e, { events: ['bang.accepted'], instanceTreeId: null })).toMatchObject({ action: 'skip' });
  });

  it('property: send iff sendable and the filters take it', () => {
    const bang = bangAcceptedEvent({
      bang: { bangId: 'b', partitionId: 'p1', computerId: 'C1', instanceTreeId: 't1', source: 'manual', message: '' },
      fannedOutTo: 1,
      partitionIds: ['p1'],
      partitionCount: 1,
      at,
      silences: [],
      baseUrl: 'http://m',
    });
    const pool: VigilEvent[] = [partitionEvent(), computerEvent(['t1']), computerEvent(['t2']), bang];
    fc.assert(
      fc.property(
        fc.constantFrom(...pool),
        fc.option(fc.subarray([...EVENT_TYPES] as EventType[], { minLength: 1 })),
        fc.option(fc.constantFrom('t1', 't2')),
        fc.constantFrom(undefined, { silenceId: 's', reason: 'r' }),
        fc.constantFrom(undefined, { by: 'bang' as const, id: 'b' }),
        (e, events, tree, silenced, suppressed) => {
          const ev = { ...e, ...(silenced ? { silenced } : {}), ...(suppressed ? { suppressed } : {}) } as VigilEvent;
          const d = route(ev, { events, instanceTreeId: tree });
          const takes = (events === null || events.includes(ev.type)) && (tree === null || concernsTree(ev, tree));
          expect(d.action).toBe(!takes ? 'skip' : isSendable(ev) ? 'send' : 'record-only');
        },
      ),
    );
  });
});
