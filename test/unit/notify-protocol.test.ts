import { describe, expect, it } from 'vitest';
import {
  ChannelCreated,
  ChannelList,
  ChannelPut,
  EVENT_TYPES,
  EventType,
  SilenceList,
  SilencePut,
  VigilEvent,
} from '../../protocol/events.ts';

const ID = `ev_${'A'.repeat(43)}`;
const at = '2025-05-01T10:00:00.000Z';

const partitionColour = {
  eventId: ID,
  type: 'partition.colour',
  at,
  computerId: 'COMP-1',
  partitionId: 'slappart0',
  instanceTreeId: 'tree-1',
  link: 'http://127.0.0.1:8787/partitions/slappart0',
  data: { from: 'green', to: 'red', reason: 'promise check-site failed: 503', since: at },
};

const pathOf = (r: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) => r.error?.issues[0]?.path;

describe('events', () => {
  it('has the six SPEC types', () => {
    expect([...EVENT_TYPES].sort()).toEqual(
      ['bang.accepted', 'bang.rejected', 'computer.colour', 'flapping.started', 'flapping.stopped', 'partition.colour'].sort(),
    );
    expect(EventType.safeParse('partition.color').success).toBe(false);
  });

  it('accepts every type with its data, rejects data of another type', () => {
    const events = [
      partitionColour,
      {
        ...partitionColour,
        type: 'computer.colour',
        partitionId: undefined,
        instanceTreeId: undefined,
        data: {
          from: 'green',
          to: 'orange',
          reason: 'no contact for 6 min',
          since: at,
          partitions: [{ partitionId: 'slappart0', instanceTreeId: 'tree-1', colour: 'green' }],
          partitionCount: 1,
          instanceTreeIds: ['tree-1'],
          instanceTreeCount: 1,
        },
      },
      {
        ...partitionColour,
        type: 'bang.accepted',
        data: { bangId: 'b1', source: 'watchdog', message: 'm', fannedOutTo: 3, partitions: ['a', 'b', 'c'], partitionCount: 3 },
      },
      {
        ...partitionColour,
        type: 'bang.rejected',
        data: { bangId: 'b1', source: 'promise', message: 'm', quotaPerDay: 24, retryAfter: '2025-05-02T00:00:00.000Z' },
      },
      { ...partitionColour, type: 'flapping.started', data: { percentStateChange: 62.5, threshold: 50, colour: 'red', reason: 'x' } },
      { ...partitionColour, type: 'flapping.stopped', data: { percentStateChange: 12, threshold: 25, colour: 'green', reason: 'y' } },
    ];
    for (const e of events) expect(VigilEvent.safeParse(e).success, e.type).toBe(true);
    expect(VigilEvent.safeParse({ ...partitionColour, type: 'bang.accepted' }).success).toBe(false);
    expect(VigilEvent.safeParse({ ...partitionColour, data: { ...partitionColour.data, to: 'blue' } }).success).toBe(false);
  });

  it('requires the ids each type concerns and a well-formed event id', () => {
    const { partitionId: _p, ...noPartition } = partitionColour;
    expect(pathOf(VigilEvent.safeParse(noPartition))).toEqual(['partitionId']);
    expect(pathOf(VigilEvent.safeParse({ ...partitionColour, eventId: 'ev_short' }))).toEqual(['eventId']);
    expect(pathOf(VigilEvent.safeParse({ ...partitionColour, at: 'yesterday' }))).toEqual(['at']);
  });

  it('caps the partition lists at 100', () => {
    const e = {
      ...partitionColour,
      type: 'bang.accepted',
      data: { bangId: 'b', source: 'manual', message: '', fannedOutTo: 101, partitions: Array.from({ length: 101 }, (_, i) => `p${i}`), partitionCount: 101 },
    };
    expect(pathOf(VigilEvent.safeParse(e))).toEqual(['data', 'partitions']);
  });

  it('parses to schema key order whatever the input order (stable bytes)', () => {
    const reversed = (o: object) => Object.fromEntries(Object.entries(o).reverse());
    const shuffled = { ...reversed(partitionColour), data: reversed(partitionColour.data) };
    expect(Object.keys(shuffled)[0]).toBe('data');
    expect(JSON.stringify(VigilEvent.parse(shuffled))).toBe(JSON.stringify(VigilEvent.parse(partitionColour)));
    expect(Object.keys(VigilEvent.parse(shuffled))[0]).toBe('eventId');
  });

  it('keeps the silenced / suppressed marks and drops unknown fields', () => {
    const marked = VigilEvent.parse({
      ...partitionColour,
      silenced: { silenceId: 's1', reason: 'maintenance' },
      suppressed: { by: 'computer', id: 'COMP-1' },
      extra: 1,
    });
    expect(marked.silenced).toEqual({ silenceId: 's1', reason: 'maintenance' });
    expect(marked.suppressed).toEqual({ by: 'computer', id: 'COMP-1' });
    expect('extra' in marked).toBe(false);
    expect(VigilEvent.safeParse({ ...partitionColour, suppressed: { by: 'mood', id: 'x' } }).success).toBe(false);
  });
});

describe('channels', () => {
  it('accepts a webhook and a slack channel with filters', () => {
    expect(ChannelPut.parse({ kind: 'webhook', url: 'https://example.com/hook', secret: 's'.repeat(16) }).secret).toBe('s'.repeat(16));
    expect(
      ChannelPut.parse({ kind: 'slack', url: 'https://hooks.slack.com/services/T0/B0/x', events: ['partition.colour'], instanceTreeId: 't' }).events,
    ).toEqual(['partition.colour']);
    expect(ChannelPut.parse({ kind: 'webhook', url: 'http://127.0.0.1:9000/' }).secret).toBeUndefined();
  });

  it('rejects bad input naming the field', () => {
    const cases: [unknown, PropertyKey[]][] = [
      [{ kind: 'email', url: 'https://x' }, ['kind']],
      [{ kind: 'webhook', url: 'ftp://example.com/' }, ['url']],
      [{ kind: 'webhook', url: 'javascript:alert(1)' }, ['url']],
      [{ kind: 'webhook', url: '/relative' }, ['url']],
      [{ kind: 'webhook', url: `https://example.com/${'a'.repeat(2048)}` }, ['url']],
      [{ kind: 'webhook', url: 'https://x.example', secret: 'short' }, ['secret']],
      [{ kind: 'webhook', url: 'https://x.example', secret: 'has a space in it!!' }, ['secret']],
      [{ kind: 'slack', url: 'https://x.example', secret: 's'.repeat(20) }, ['secret']],
      [{ kind: 'webhook', url: 'https://x.example', events: [] }, ['events']],
      [{ kind: 'webhook', url: 'https://x.example', events: ['bang.accepted', 'bang.accepted'] }, ['events']],
      [{ kind: 'webhook', url: 'https://x.example', events: ['nope'] }, ['events', 0]],
      [{ kind: 'webhook', url: 'https://x.example', instanceTreeId: 'a/b' }, ['instanceTreeId']],
    ];
    for (const [input, path] of cases) expect(pathOf(ChannelPut.safeParse(input)), JSON.stringify(input).slice(0, 80)).toEqual(path);
  });

  it('views: the created answer may carry the generated secret, lists page', () => {
    const view = {
      channelId: 'ops',
      kind: 'webhook',
      url: 'https://example.com/hook',
      hasSecret: true,
      events: null,
      instanceTreeId: null,
      createdAt: at,
      updatedAt: at,
      lastDelivery: { at, eventId: ID, ok: false, status: 503, error: 'HTTP 503' },
      backlog: 2,
    };
    expect(ChannelCreated.parse({ ...view, secret: 'vwh1_x' }).secret).toBe('vwh1_x');
    expect(ChannelList.parse({ channels: [view], nextCursor: null }).channels).toHaveLength(1);
    expect(ChannelList.safeParse({ channels: [view] }).success).toBe(false);
  });
});

describe('silences', () => {
  const ok = { match: { instanceTreeId: 'tree-1' }, startsAt: at, endsAt: '2025-05-01T12:00:00.000Z', reason: 'upgrade' };
  it('accepts one match key and a window', () => {
    expect(SilencePut.parse(ok).match).toEqual({ instanceTreeId: 'tree-1' });
    expect(SilencePut.parse({ ...ok, match: { computerId: 'C' } }).match.computerId).toBe('C');
  });
  it('rejects bad input naming the field', () => {
    const cases: [unknown, PropertyKey[]][] = [
      [{ ...ok, match: {} }, ['match']],
      [{ ...ok, match: { computerId: 'a', partitionId: 'b' } }, ['match']],
      [{ ...ok, match: { tree: 'x' } }, ['match']],
      [{ ...ok, endsAt: ok.startsAt }, ['endsAt']],
      [{ ...ok, endsAt: '2025-04-30T00:00:00Z' }, ['endsAt']],
      [{ ...ok, endsAt: '2026-05-03T00:00:00Z' }, ['endsAt']],
      [{ ...ok, startsAt: 'now' }, ['startsAt']],
      [{ ...ok, reason: '   ' }, ['reason']],
      [{ ...ok, reason: 'x'.repeat(1001) }, ['reason']],
    ];
    for (const [input, path] of cases) expect(pathOf(SilencePut.safeParse(input)), JSON.stringify(input)).toEqual(path);
    const msg = SilencePut.safeParse({ ...ok, endsAt: ok.startsAt }).error?.issues[0]?.message;
    expect(msg).toBe('must be after startsAt');
    expect(SilencePut.safeParse({ ...ok, match: { computerId: 'a', partitionId: 'b' } }).error?.issues[0]?.message).toMatch(/exactly one/);
  });
  it('compares instants, not strings (offsets)', () => {
    // 11:30+02:00 is 09:30Z: before 10:00Z
    expect(pathOf(SilencePut.safeParse({ ...ok, endsAt: '2025-05-01T11:30:00+02:00' }))).toEqual(['endsAt']);
    expect(SilencePut.safeParse({ ...ok, endsAt: '2025-05-01T12:30:00+02:00' }).success).toBe(true);
  });
  it('lists page', () => {
    const s = { ...ok, silenceId: 's1', createdAt: at, updatedAt: at, endedAt: null, active: true };
    expect(SilenceList.parse({ silences: [s], nextCursor: 'abc' }).nextCursor).toBe('abc');
  });
});
