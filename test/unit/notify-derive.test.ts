import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SilenceRecord } from '../../functions/domain/silences.ts';
import {
  type PartitionNotifyState,
  type PartitionObservation,
  bangAcceptedEvent,
  bangRejectedEvent,
  initialPartitionNotifyState,
  isSendable,
  observeComputer,
  observePartition,
} from '../../functions/notify/derive.ts';
import { type VigilEvent, VigilEvent as VigilEventSchema } from '../../protocol/events.ts';
import type { Colour } from '../../protocol/index.ts';

const BASE = 'https://vigil.example/';
const T0 = Date.UTC(2025, 4, 1, 10);
const iso = (ms: number) => new Date(ms).toISOString();
const P = { partitionId: 'p1', computerId: 'C1', instanceTreeId: 't1' };

const reasonOf = (c: Colour) => (c === 'green' ? 'all promises kept' : 'promise check-site failed: 503');

/** Drives one partition through observations, as the master would. */
class Partition {
  colour: Colour = 'red';
  since = iso(T0);
  state: PartitionNotifyState;
  t = T0;
  all: VigilEvent[] = [];

  /** `told`: what receivers were told already (a partition with a past). */
  constructor(told: Colour | null = null) {
    this.state = { ...initialPartitionNotifyState(), announced: told };
  }

  observe(
    colour: Colour,
    ctx: { computerColour?: Colour; bangInProgress?: string | null; silences?: SilenceRecord[]; stepMs?: number } = {},
  ): VigilEvent[] {
    this.t += ctx.stepMs ?? 10_000;
    const before = this.colour;
    if (colour !== before) this.since = iso(this.t);
    this.colour = colour;
    const o: PartitionObservation = {
      partition: P,
      before,
      after: { colour, reason: reasonOf(colour), since: this.since },
      at: iso(this.t),
      state: this.state,
      computerColour: ctx.computerColour ?? 'green',
      bangInProgress: ctx.bangInProgress ?? null,
      silences: ctx.silences ?? [],
      baseUrl: BASE,
    };
    const r = observePartition(o);
    // deriving the same observation again gives the same events (idempotent outbox writes)
    expect(observePartition(o)).toEqual(r);
    this.state = r.state;
    this.all.push(...r.events);
    return r.events;
  }
}

const sent = (events: VigilEvent[]) => events.filter(isSendable);
const types = (events: VigilEvent[]) => events.map((e) => e.type);

describe('partition colour events', () => {
  it('a change is one sendable event with from/to/reason/since, ids and a dashboard link', () => {
    const p = new Partition();
    p.observe('green');
    const [e, ...rest] = p.observe('red');
    expect(rest).toEqual([]);
    expect(VigilEventSchema.parse(e)).toEqual(e);
    expect(e).toMatchObject({
      type: 'partition.colour',
      at: iso(p.t),
      ...P,
      link: 'https://vigil.example/partitions/p1',
      data: { from: 'green', to: 'red', reason: reasonOf('red'), since: iso(p.t) },
    });
    expect(isSendable(e!)).toBe(true);
    expect(p.state.announced).toBe('red');
  });

  it('no news is good news: a new partition turning green is recorded, not sent; no change, no event', () => {
    const p = new Partition();
    expect(p.state.announced).toBeNull();
    const [first] = p.observe('green');
    expect(first).toMatchObject({ data: { from: 'red', to: 'green' }, suppressed: { by: 'announced', id: 'p1' } });
    expect(p.observe('green')).toEqual([]);
    expect(p.observe('green')).toEqual([]);
    expect(sent(p.observe('red'))[0]).toMatchObject({ data: { from: 'green', to: 'red' } });
  });

  it('a new partition whose first report fails is told (red, from the assumed green), once', () => {
    const p = new Partition();
    const [e] = p.observe('red');
    expect(e).toMatchObject({ type: 'partition.colour', data: { from: 'green', to: 'red' } });
    expect(isSendable(e!)).toBe(true);
    expect(p.observe('red')).toEqual([]);
  });
});

describe('dependency suppression: computer', () => {
  it('while the computer is orange or red, changes are recorded, marked, not sent', () => {
    for (const computerColour of ['orange', 'red'] as const) {
      const p = new Partition('green');
      p.observe('green');
      const [e] = p.observe('red', { computerColour });
      expect(e).toMatchObject({ type: 'partition.colour', suppressed: { by: 'computer', id: 'C1' }, data: { from: 'green', to: 'red' } });
      expect(isSendable(e!)).toBe(false);
      expect(p.state.announced).toBe('green');
    }
  });

  it('back to the told colour after the computer returned: recorded, not sent', () => {
    const p = new Partition();
    p.observe('green');
    p.observe('red', { computerColour: 'red' });
    const [e] = p.observe('green');
    expect(e).toMatchObject({ suppressed: { by: 'announced', id: 'p1' }, data: { from: 'red', to: 'green' } });
  });

  it('still red after the computer returned: told once, at the next observation, with a new id', () => {
    const p = new Partition();
    p.observe('green');
    const [held] = p.observe('red', { computerColour: 'red' });
    expect(held).toMatchObject({ suppressed: { by: 'computer' } });
    const [told] = p.observe('red');
    expect(told).toMatchObject({ type: 'partition.colour', data: { from: 'green', to: 'red', since: p.since } });
    expect(isSendable(told!)).toBe(true);
    expect(told!.eventId).not.toBe(held!.eventId);
    expect(p.observe('red')).toEqual([]);
  });

  it('a computer going silent with 10 partitions: one event, not eleven', () => {
    const parts = Array.from({ length: 10 }, (_, i) => ({ partitionId: `p${i}`, instanceTreeId: i < 5 ? 't1' : 't2', colour: 'green' as Colour }));
    const computerEvent = observeComputer({
      computerId: 'C1',
      before: 'green',
      after: { colour: 'orange', reason: 'no contact for 5 min', since: iso(T0 + 300_000) },
      at: iso(T0 + 300_000),
      partitions: parts,
      silences: [],
      baseUrl: BASE,
    });
    const events: VigilEvent[] = [computerEvent!];
    for (const part of parts) {
      const r = observePartition({
        partition: { partitionId: part.partitionId, computerId: 'C1', instanceTreeId: part.instanceTreeId },
        before: 'green',
        after: { colour: 'red', reason: 'last report 25 h ago', since: iso(T0 + 86_400_000) },
        at: iso(T0 + 86_400_000),
        state: { ...initialPartitionNotifyState(), announced: 'green' },
        computerColour: 'red',
        bangInProgress: null,
        silences: [],
        baseUrl: BASE,
      });
      events.push(...r.events);
    }
    expect(events).toHaveLength(11);
    expect(sent(events)).toEqual([computerEvent]);
    expect(computerEvent!.data.partitionCount).toBe(10);
    expect(computerEvent!.data.partitions.map((x) => x.partitionId)).toEqual(parts.map((x) => x.partitionId).sort());
  });
});

describe('dependency suppression: bang fan-out', () => {
  it('a 1,000-partition tree banged: one bang.accepted event', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `part-${String(i).padStart(4, '0')}`);
    const bang = bangAcceptedEvent({
      bang: { bangId: 'b1', partitionId: 'part-0007', computerId: 'C1', instanceTreeId: 'big', source: 'promise', message: 'anomaly' },
      fannedOutTo: 1000,
      partitionIds: [...ids].reverse(),
      partitionCount: 1000,
      at: iso(T0),
      silences: [],
      baseUrl: BASE,
    });
    expect(VigilEventSchema.parse(bang)).toEqual(bang);
    expect(bang.data.partitions).toEqual(ids.slice(0, 100));
    expect(bang.data.partitionCount).toBe(1000);
    expect(bang.link).toBe('https://vigil.example/trees/big');
    const events: VigilEvent[] = [bang];
    for (const id of ids) {
      let state: PartitionNotifyState = { ...initialPartitionNotifyState(), announced: 'green' };
      const base = { partition: { partitionId: id, computerId: 'C1', instanceTreeId: 'big' }, computerColour: 'green' as Colour, silences: [], baseUrl: BASE };
      // the fan-out turns it red …
      const red = observePartition({
        ...base,
        before: 'green',
        after: { colour: 'red', reason: 'bang at … after the last report', since: iso(T0) },
        at: iso(T0),
        state,
        bangInProgress: 'b1',
      });
      state = red.state;
      // … the report that acknowledges the reprocess turns it green again
      const green = observePartition({
        ...base,
        before: 'red',
        after: { colour: 'green', reason: 'all promises kept', since: iso(T0 + 60_000) },
        at: iso(T0 + 60_000),
        state,
        bangInProgress: null,
      });
      events.push(...red.events, ...green.events);
    }
    expect(sent(events)).toEqual([bang]);
    expect(events.filter((e) => e.suppressed?.by === 'bang')).toHaveLength(1000);
  });

  it('a partition still failing after the reprocess is told (no colour change, but news)', () => {
    const p = new Partition();
    p.observe('green');
    const [held] = p.observe('red', { bangInProgress: 'b1' });
    expect(held).toMatchObject({ suppressed: { by: 'bang', id: 'b1' } });
    const [told] = p.observe('red');
    expect(told).toMatchObject({ data: { from: 'green', to: 'red' } });
    expect(isSendable(told!)).toBe(true);
  });

  it('bang observations are not flap samples', () => {
    const p = new Partition();
    p.observe('green');
    const h = p.state.flapHistory;
    p.observe('red', { bangInProgress: 'b1' });
    expect(p.state.flapHistory).toBe(h);
    for (let i = 0; i < 30; i++) p.observe(i % 2 ? 'green' : 'red', { bangInProgress: `b${i}` });
    expect(p.state.flapping).toBe(false);
    expect(p.all.some((e) => e.type.startsWith('flapping'))).toBe(false);
  });
});

describe('flapping', () => {
  it('alternating every report: flapping.started once, then no colour events until stable and flapping.stopped', () => {
    const p = new Partition();
    p.observe('green');
    const out: VigilEvent[] = [];
    for (let i = 0; i < 30; i++) out.push(...p.observe(i % 2 === 0 ? 'red' : 'green'));
    const startIdx = out.findIndex((e) => e.type === 'flapping.started');
    expect(startIdx).toBeGreaterThan(0);
    expect(out.filter((e) => e.type === 'flapping.started')).toHaveLength(1);
    // before: each change sent; after: every colour event held back
    expect(out.slice(0, startIdx).every((e) => e.type === 'partition.colour' && isSendable(e))).toBe(true);
    const after = out.slice(startIdx + 1);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((e) => e.type === 'partition.colour' && e.suppressed?.by === 'flapping')).toBe(true);
    const started = out[startIdx]!;
    expect(started).toMatchObject({ type: 'flapping.started', data: { threshold: 50 }, link: 'https://vigil.example/partitions/p1' });
    if (started.type === 'flapping.started') expect(started.data.percentStateChange).toBeGreaterThan(50);

    // stable now: flapping.stopped once, carrying the colour; no colour event sent
    const stable: VigilEvent[] = [];
    for (let i = 0; i < 25; i++) stable.push(...p.observe('green'));
    expect(types(sent(stable))).toEqual(['flapping.stopped']);
    expect(sent(stable)[0]).toMatchObject({ data: { colour: 'green', threshold: 25 } });
    expect(p.state.flapping).toBe(false);
    expect(p.state.announced).toBe('green');
    // and colour events resume
    expect(sent(p.observe('red'))).toHaveLength(1);
  });

  it('the change that starts flapping is held back, after flapping.started', () => {
    const p = new Partition();
    p.observe('green');
    let evs: VigilEvent[] = [];
    for (let i = 0; i < 30 && !evs.some((e) => e.type === 'flapping.started'); i++) evs = p.observe(i % 2 === 0 ? 'red' : 'green');
    expect(types(evs)).toEqual(['flapping.started', 'partition.colour']);
    expect(evs[1]).toMatchObject({ suppressed: { by: 'flapping', id: 'p1' } });
  });

  it('a flapping partition that ends on a colour other than told is told by flapping.stopped', () => {
    const p = new Partition();
    p.observe('green');
    for (let i = 0; i < 12; i++) p.observe(i % 2 === 0 ? 'red' : 'green');
    expect(p.state.flapping).toBe(true);
    const out: VigilEvent[] = [];
    for (let i = 0; i < 25; i++) out.push(...p.observe('red'));
    expect(sent(out)).toHaveLength(1);
    expect(sent(out)[0]).toMatchObject({ type: 'flapping.stopped', data: { colour: 'red' } });
    expect(p.state.announced).toBe('red');
    expect(p.observe('red')).toEqual([]);
  });

  it('records the sample time for the sweep', () => {
    const p = new Partition();
    p.observe('green');
    expect(p.state.sampledAt).toBe(iso(p.t));
    const t = p.state.sampledAt;
    p.observe('red', { bangInProgress: 'b' });
    expect(p.state.sampledAt).toBe(t);
  });
});

describe('silences', () => {
  const silence = (over: Partial<SilenceRecord> = {}): SilenceRecord => ({
    silenceId: 'maint',
    match: { instanceTreeId: 't1' },
    startsAt: iso(T0),
    endsAt: iso(T0 + 3_600_000),
    reason: 'upgrade',
    endedAt: null,
    ...over,
  });

  it('matching events are recorded and marked, not sent; after the silence, new events are', () => {
    const p = new Partition('green');
    p.observe('green', { stepMs: 1000 });
    const [e] = p.observe('red', { silences: [silence()] });
    expect(e).toMatchObject({ silenced: { silenceId: 'maint', reason: 'upgrade' } });
    expect(e!.suppressed).toBeUndefined();
    expect(isSendable(e!)).toBe(false);
    expect(p.state.announced).toBe('green');
    // recovers during the silence: nothing to tell afterwards
    p.observe('green', { silences: [silence()] });
    p.t = T0 + 3_600_000;
    expect(p.observe('green', { silences: [silence()] })).toEqual([]);
    // a new change after the silence is sent
    expect(sent(p.observe('red', { silences: [silence()] }))).toHaveLength(1);
  });

  it('still red when the silence ends: told at the next observation', () => {
    const p = new Partition();
    p.observe('green', { stepMs: 1000 });
    p.observe('red', { silences: [silence()] });
    expect(p.observe('red', { silences: [silence()] })).toEqual([]);
    p.t = T0 + 3_600_000;
    const [told] = p.observe('red', { silences: [silence()] });
    expect(told).toMatchObject({ data: { from: 'green', to: 'red' } });
    expect(isSendable(told!)).toBe(true);
  });

  it('silences flapping events too; non-matching silences do nothing', () => {
    const p = new Partition();
    p.observe('green', { stepMs: 1000 });
    const other = silence({ match: { instanceTreeId: 't2' } });
    const all: VigilEvent[] = [];
    for (let i = 0; i < 12; i++) all.push(...p.observe(i % 2 === 0 ? 'red' : 'green', { silences: [silence(), other], stepMs: 1000 }));
    const started = all.find((e) => e.type === 'flapping.started');
    expect(started?.silenced?.silenceId).toBe('maint');
    const q = new Partition();
    q.observe('green', { stepMs: 1000 });
    expect(sent(q.observe('red', { silences: [other] }))).toHaveLength(1);
  });
});

describe('computer events', () => {
  const base = {
    computerId: 'C1',
    before: 'green' as Colour,
    after: { colour: 'red' as Colour, reason: 'no contact for 1 h', since: '2025-05-01T11:00:00+01:00' },
    at: iso(T0),
    silences: [] as SilenceRecord[],
    baseUrl: 'http://127.0.0.1:8787',
  };
  it('no change, no event', () => {
    expect(observeComputer({ ...base, before: 'red', partitions: [] })).toBeNull();
  });
  it('a first contact (never contacted → green) is recorded, not sent; a later return to green is sent', () => {
    const back = { ...base, before: 'red' as Colour, after: { colour: 'green' as Colour, reason: 'in contact with the master', since: iso(T0) }, partitions: [] };
    const first = observeComputer({ ...back, firstContact: true })!;
    expect(first.suppressed).toEqual({ by: 'announced', id: 'C1' });
    expect(isSendable(first)).toBe(false);
    expect(isSendable(observeComputer(back)!)).toBe(true);
  });
  it('lists partitions (sorted, first 100) and distinct trees, with counts', () => {
    const parts = Array.from({ length: 150 }, (_, i) => ({ partitionId: `p${String(149 - i).padStart(3, '0')}`, instanceTreeId: `t${i % 3}`, colour: 'green' as Colour }));
    const e = observeComputer({ ...base, partitions: parts })!;
    expect(VigilEventSchema.parse(e)).toEqual(e);
    expect(e.data.partitions).toHaveLength(100);
    expect(e.data.partitions[0]!.partitionId).toBe('p000');
    expect(e.data.partitionCount).toBe(150);
    expect(e.data.instanceTreeIds).toEqual(['t0', 't1', 't2']);
    expect(e.data.instanceTreeCount).toBe(3);
    expect(e.data.since).toBe('2025-05-01T10:00:00.000Z');
    expect(e.link).toBe('http://127.0.0.1:8787/computers/C1');
    expect(observeComputer({ ...base, partitions: parts })!.eventId).toBe(e.eventId);
  });
  it('a computer silence marks it, a tree silence does not', () => {
    const s = (match: SilenceRecord['match']): SilenceRecord => ({
      silenceId: 's',
      match,
      startsAt: iso(T0 - 1),
      endsAt: iso(T0 + 1),
      reason: 'r',
      endedAt: null,
    });
    const parts = [{ partitionId: 'p1', instanceTreeId: 't1', colour: 'green' as Colour }];
    expect(observeComputer({ ...base, partitions: parts, silences: [s({ computerId: 'C1' })] })!.silenced?.silenceId).toBe('s');
    expect(observeComputer({ ...base, partitions: parts, silences: [s({ instanceTreeId: 't1' })] })!.silenced).toBeUndefined();
  });
});

describe('bang rejected', () => {
  it('names the quota and when it resets; one id per day', () => {
    const bang = { bangId: 'b9', partitionId: 'p1', computerId: 'C1', instanceTreeId: 't1', source: 'watchdog' as const, message: 'service exited' };
    const e = bangRejectedEvent({ bang, quotaPerDay: 24, retryAfter: '2025-05-02T00:00:00Z', at: iso(T0), silences: [], baseUrl: BASE });
    expect(VigilEventSchema.parse(e)).toEqual(e);
    expect(e.data).toEqual({ bangId: 'b9', source: 'watchdog', message: 'service exited', quotaPerDay: 24, retryAfter: '2025-05-02T00:00:00.000Z' });
    expect(e.link).toBe('https://vigil.example/partitions/p1');
    const sameDay = bangRejectedEvent({ bang, quotaPerDay: 24, retryAfter: '2025-05-02T00:00:00Z', at: iso(T0 + 3_600_000), silences: [], baseUrl: BASE });
    const nextDay = bangRejectedEvent({ bang, quotaPerDay: 24, retryAfter: '2025-05-03T00:00:00Z', at: iso(T0 + 86_400_000), silences: [], baseUrl: BASE });
    expect(sameDay.eventId).toBe(e.eventId);
    expect(nextDay.eventId).not.toBe(e.eventId);
  });
});

describe('properties over any history of observations', () => {
  const stepArb = fc.record({
    colour: fc.constantFrom<Colour>('green', 'red'),
    computer: fc.constantFrom<Colour>('green', 'green', 'green', 'orange', 'red'),
    bang: fc.constantFrom<string | null>(null, null, null, 'b1', 'b2'),
    silenced: fc.boolean(),
  });
  const always: SilenceRecord = {
    silenceId: 'sx',
    match: { partitionId: 'p1' },
    startsAt: iso(0),
    endsAt: iso(T0 * 2),
    reason: 'r',
    endedAt: null,
  };

  it('one recorded event per change; what is sent tells a consistent story; receivers end up knowing the truth', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 80 }), (steps) => {
        const p = new Partition();
        let told: Colour | null = null;
        let flapping = false;
        for (const s of steps) {
          const before = p.colour;
          const evs = p.observe(s.colour, { computerColour: s.computer, bangInProgress: s.bang, silences: s.silenced ? [always] : [] });
          for (const e of evs) expect(VigilEventSchema.parse(e)).toEqual(e);
          const colourEvents = evs.filter((e) => e.type === 'partition.colour');
          if (before !== s.colour) {
            expect(colourEvents).toHaveLength(1);
          } else {
            // no change: at most the one event that tells a held-back colour, and it is sent
            expect(colourEvents.length).toBeLessThanOrEqual(1);
            for (const e of colourEvents) expect(isSendable(e)).toBe(true);
          }
          for (const e of evs) {
            if (e.type === 'flapping.started') flapping = true;
            if (!isSendable(e)) continue;
            if (e.type === 'partition.colour') {
              expect(flapping).toBe(false);
              expect(e.data.from).toBe(told ?? 'green');
              expect(e.data.to).not.toBe(told ?? 'green');
              told = e.data.to;
            } else if (e.type === 'flapping.started' || e.type === 'flapping.stopped') {
              told = e.data.colour;
            }
            if (e.type === 'flapping.stopped') flapping = false;
          }
          if (evs.some((e) => e.type === 'flapping.stopped')) flapping = false;
          expect(p.state.announced).toBe(told);
        }
        const ids = p.all.map((e) => e.eventId);
        expect(new Set(ids).size).toBe(ids.length);
        // one free observation (computer green, no bang, no silence): receivers know the colour
        if (!p.state.flapping) {
          p.observe(p.colour);
          expect((p.state.announced ?? 'green') === p.colour || p.state.flapping).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
