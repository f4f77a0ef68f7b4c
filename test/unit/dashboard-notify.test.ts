// The dashboard's notification pages (events, silences, channels) and marks (a silence
// holding a page, a flapping partition), over the in-memory paged API; and the pure rules of
// functions/dashboard/notify-view.ts.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { eventStatus, eventSummary, silenceState, silencesHolding } from '../../functions/dashboard/notify-view.ts';
import type { Channel, RecordedEvent, Silence, VigilEvent } from '../../protocol/events.ts';
import { RecordedEvent as RecordedEventSchema } from '../../protocol/events.ts';
import { type FakeFleet, fakeFleet } from '../helpers/fake-api.ts';
import { crawl, dashboardOver, FAKE_NOW, ids } from '../helpers/fake-dashboard.ts';

const NOW = FAKE_NOW;
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();
const eventId = (n: number) => `ev_${createHash('sha256').update(String(n)).digest('base64url')}`;

function partitionEvent(n: number, partitionId: string, computerId: string, over: Partial<VigilEvent> = {}): VigilEvent {
  return {
    eventId: eventId(n),
    type: 'partition.colour',
    at: at(-n),
    computerId,
    partitionId,
    instanceTreeId: 't00000',
    link: `https://vigil.example/partitions/${partitionId}`,
    data: { from: 'green', to: 'red', reason: `promise check-${n} failed: refused`, since: at(-n) },
    ...over,
  } as VigilEvent;
}

const recorded = (event: VigilEvent, deliveries: RecordedEvent['deliveries'] = []): RecordedEvent =>
  RecordedEventSchema.parse({ event, recordedAt: event.at, sendable: !event.silenced && !event.suppressed, deliveries });

function silence(id: string, match: Silence['match'], startsAt: string, endsAt: string, over: Partial<Silence> = {}): Silence {
  const active = startsAt <= NOW.toISOString() && NOW.toISOString() < endsAt && !over.endedAt;
  return { silenceId: id, match, startsAt, endsAt, reason: `maintenance ${id}`, createdAt: at(-600), updatedAt: at(-600), endedAt: null, active, ...over };
}

function channel(id: string, over: Partial<Channel> = {}): Channel {
  return {
    channelId: id,
    kind: 'webhook',
    url: 'https://hooks.example/…',
    hasSecret: true,
    events: null,
    instanceTreeId: null,
    createdAt: at(-600),
    updatedAt: at(-600),
    lastDelivery: { at: at(-1), eventId: eventId(1), ok: true, status: 200 },
    backlog: 0,
    ...over,
  };
}

/** A fleet of 3 computers × 4 partitions (trees of 10) with notifications. */
function notifyFleet(): FakeFleet {
  const fleet = fakeFleet({ computers: 3, perComputer: 4 });
  const p5 = fleet.partitions[5]!; // on c00001
  p5.flapping = true;
  fleet.events = [
    recorded(partitionEvent(1, 'p000000', 'c00000'), [{ channelId: 'ops', action: 'send', state: 'delivered' }]),
    recorded(partitionEvent(2, p5.partitionId, p5.computerId, { silenced: { silenceId: 'c1-maintenance', reason: 'maintenance c1-maintenance' } })),
    recorded(partitionEvent(3, 'p000008', 'c00002', { suppressed: { by: 'computer', id: 'c00002' } })),
    recorded(
      {
        eventId: eventId(4),
        type: 'computer.colour',
        at: at(-4),
        computerId: 'c00002',
        link: 'https://vigil.example/computers/c00002',
        data: { from: 'green', to: 'orange', reason: 'no contact for 6 min', since: at(-4), partitions: [], partitionCount: 4, instanceTreeIds: ['t00000'], instanceTreeCount: 1 },
      },
      [{ channelId: 'ops', action: 'send', state: 'queued', attempts: 2, nextAttemptAt: at(3) }],
    ),
    recorded(
      {
        eventId: eventId(5),
        type: 'bang.rejected',
        at: at(-5),
        computerId: 'c00000',
        partitionId: 'p000001',
        instanceTreeId: 't00000',
        link: 'https://vigil.example/partitions/p000001',
        data: { bangId: 'b1', source: 'promise', message: 'disk full', quotaPerDay: 24, retryAfter: at(600) },
      },
      [{ channelId: 'ops', action: 'send', state: 'dead' }],
    ),
  ];
  fleet.silences = [
    silence('c1-maintenance', { computerId: 'c00001' }, at(-60), at(60)),
    silence('tree-quiet', { instanceTreeId: 't00001' }, at(-60), at(60)),
    silence('later', { partitionId: 'p000000' }, at(60), at(120)),
    silence('stopped', { partitionId: 'p000000' }, at(-60), at(60), { endedAt: at(-10) }),
    silence('past', { partitionId: 'p000000' }, at(-120), at(-60)),
  ];
  fleet.channels = [
    channel('ops'),
    channel('slack-oncall', { kind: 'slack', lastDelivery: { at: at(-2), eventId: eventId(4), ok: false, status: 503 }, backlog: 7 }),
    channel('dead-hook', { lastDelivery: null, dead: { count: 3, last: { at: at(-1), eventId: eventId(5), error: 'HTTP 410' } } }),
  ];
  return fleet;
}

describe('notify-view (pure)', () => {
  test('event status: silenced, suppressed, routing, no channel, delivered / queued / dead', () => {
    const [delivered, silenced, suppressed, queued, dead] = notifyFleet().events!;
    expect(eventStatus(delivered!)).toEqual({ kind: 'sent', text: 'delivered to 1 channel' });
    expect(eventStatus(silenced!)).toMatchObject({ kind: 'silenced', text: expect.stringContaining('c1-maintenance') });
    expect(eventStatus(suppressed!)).toEqual({ kind: 'suppressed', text: "not sent: folded into computer c00002's event" });
    expect(eventStatus(queued!)).toEqual({ kind: 'queued', text: `1 queued (retry at ${at(3)})` });
    expect(eventStatus(dead!).kind).toBe('dead');
    expect(eventStatus({ ...delivered!, deliveries: null }).kind).toBe('routing');
    expect(eventStatus({ ...delivered!, deliveries: [] })).toEqual({ kind: 'unsent', text: 'no channel' });
    expect(eventStatus({ ...delivered!, deliveries: [{ channelId: 'x', action: 'skip' }] }).text).toBe('no channel takes it (filters)');
  });

  test('event summaries say what happened, reasons cut to 300 characters', () => {
    const [delivered, , , computer, rejected] = notifyFleet().events!;
    expect(eventSummary(delivered!.event)).toBe('green → red: promise check-1 failed: refused');
    expect(eventSummary(computer!.event)).toBe('green → orange (4 partitions on it): no contact for 6 min');
    expect(eventSummary(rejected!.event)).toContain('daily quota of 24 used');
    const long = partitionEvent(9, 'p', 'c', { data: { from: 'green', to: 'red', reason: 'x'.repeat(5000), since: at(0) } } as Partial<VigilEvent>);
    expect(eventSummary(long).length).toBeLessThan(320);
  });

  test('silence state at the master clock; the silences holding a partition are its own, its computer\'s and its tree\'s', () => {
    const s = notifyFleet().silences!;
    expect(s.map((x) => silenceState(x, NOW))).toEqual(['active', 'active', 'scheduled', 'ended', 'expired']);
    const holding = (subject: Parameters<typeof silencesHolding>[1]) => silencesHolding(s, subject).map((x) => x.silenceId);
    expect(holding({ partitionId: 'p000005', computerId: 'c00001', instanceTreeId: 't00000' })).toEqual(['c1-maintenance']);
    expect(holding({ partitionId: 'p000012', computerId: 'c00003', instanceTreeId: 't00001' })).toEqual(['tree-quiet']);
    expect(holding({ partitionId: 'p000000', computerId: 'c00000', instanceTreeId: 't00000' })).toEqual([]); // scheduled, ended, past
    expect(holding({ computerId: 'c00001' })).toEqual(['c1-maintenance']);
  });
});

describe('notification pages', () => {
  test('/events: each event, what became of it, filters by partition and computer', async () => {
    const d = await dashboardOver(notifyFleet());
    const r = await d.get('/events');
    expect(r.status).toBe(200);
    const statuses = [...r.html.matchAll(/<tr data-event="[^"]+" data-type="([^"]+)" data-status="([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(statuses).toEqual(['partition.colour sent', 'partition.colour silenced', 'partition.colour suppressed', 'computer.colour queued', 'bang.rejected dead']);
    expect(r.html).toContain('silenced by c1-maintenance');
    expect(d.api.requests).toContain('/v1/events?limit=50');
    const one = await d.get('/events?partition=p000005');
    expect(ids(one.html, 'data-event')).toEqual([eventId(2)]);
    expect(d.api.requests).toContain('/v1/events?limit=50&partitionId=p000005');
    expect(ids((await d.get('/events?computer=c00002')).html, 'data-event')).toEqual([eventId(3), eventId(4)]);
  });

  test('/events pages through every event once', async () => {
    const fleet = notifyFleet();
    fleet.events = Array.from({ length: 130 }, (_, i) => recorded(partitionEvent(i + 10, 'p000000', 'c00000')));
    const d = await dashboardOver(fleet);
    const pages = await crawl(d, '/events', 'data-event', 50);
    expect(pages.map((p) => p.length)).toEqual([50, 50, 30]);
    expect(new Set(pages.flat()).size).toBe(130);
  });

  test('/silences: every silence with its state; /channels: last delivery, backlog, dead deliveries', async () => {
    const d = await dashboardOver(notifyFleet());
    const s = await d.get('/silences');
    expect([...s.html.matchAll(/data-silence="([^"]+)" data-state="([^"]+)"/g)].map((m) => `${m[1]}:${m[2]}`)).toEqual([
      'c1-maintenance:active',
      'tree-quiet:active',
      'later:scheduled',
      'stopped:ended',
      'past:expired',
    ]);
    expect(s.html).toContain('(ended early)');
    const c = await d.get('/channels');
    expect([...c.html.matchAll(/data-channel="([^"]+)" data-health="([^"]+)"/g)].map((m) => `${m[1]}:${m[2]}`)).toEqual(['ops:ok', 'slack-oncall:failing', 'dead-hook:dead']);
    expect(c.html).toContain('HTTP 503');
    expect(c.html).toMatch(/data-label="Backlog">7</);
  });

  test('a silenced computer, tree or partition says so on its page; a flapping partition is marked', async () => {
    const d = await dashboardOver(notifyFleet());
    const held = await d.get('/partitions/p000005'); // on c00001: the computer's silence holds it
    expect(held.html).toMatch(/id="silenced"[^>]*data-silences="c1-maintenance"/);
    expect(held.html).toContain('data-flapping="true"');
    expect(held.html).toContain('href="/events?partition=p000005"');
    const free = await d.get('/partitions/p000000');
    expect(free.html).not.toContain('id="silenced"');
    expect(free.html).not.toContain('data-flapping');
    expect((await d.get('/computers/c00001')).html).toMatch(/data-silences="c1-maintenance"/);
    expect((await d.get('/computers/c00000')).html).not.toContain('id="silenced"');
    expect((await d.get('/trees/t00001')).html).toMatch(/data-silences="tree-quiet"/);
    const list = await d.get('/partitions?computer=c00001');
    expect(list.html.match(/data-flapping="true"/g)).toHaveLength(1);
  });

  test('a master without notifications (404 on /v1/silences) still renders every page, with no banner', async () => {
    const fleet = notifyFleet();
    const d = await dashboardOver(fleet, (f) => (input, init) => (input.startsWith('/v1/silences') ? Promise.resolve(new Response('{"error":"not_found","message":"no"}', { status: 404, headers: { 'content-type': 'application/json' } })) : f(input, init)));
    for (const path of ['/partitions/p000005', '/computers/c00001', '/trees/t00001']) {
      const r = await d.get(path);
      expect(r.status, path).toBe(200);
      expect(r.html, path).not.toContain('id="silenced"');
    }
  });
});
