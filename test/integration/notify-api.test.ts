// /v1/channels, /v1/silences and /v1/events through the app and the DynamoDB store
// (DynamoDB Local): validation (400 naming the field), admin auth, paging, secrets shown once,
// masked URLs, the recorded events with their delivery state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bangAcceptedEvent } from '../../functions/notify/derive.ts';
import { publishEvents } from '../../functions/services/notify-publish.ts';
import { allPages, VigilApiError } from '../../protocol/client.ts';
import { Channel, ChannelCreated } from '../../protocol/events.ts';
import { createTestMaster, errorBody, type TestMaster } from '../helpers/master.ts';
import { addComputer } from '../helpers/master-fleet.ts';

let m: TestMaster;
beforeAll(async () => {
  m = await createTestMaster({ dashboard: false });
});
afterAll(async () => {
  await m?.dispose();
});

const SLACK = 'https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdEFGH1234ijklMNOP5678';

describe('channels', () => {
  it('a new webhook without a secret gets one, shown once (201); the views never show it nor the full URL', async () => {
    const r = await m.call('PUT', '/v1/channels/ops-hook', { kind: 'webhook', url: 'https://user:pw@hooks.example.com/in/0123456789abcdefXYZ?token=s3cret', events: ['partition.colour'] });
    expect(r.status).toBe(201);
    const created = ChannelCreated.parse(r.body);
    expect(created.secret).toMatch(/^vwh1_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ channelId: 'ops-hook', kind: 'webhook', hasSecret: true, events: ['partition.colour'], backlog: 0, lastDelivery: null });
    expect(created.url).toBe('https://***@hooks.example.com/in/0123…?token=***');
    expect(created.dead).toEqual({ count: 0, last: null });

    const again = await m.call('PUT', '/v1/channels/ops-hook', { kind: 'webhook', url: 'https://hooks.example.com/in' });
    expect(again.status).toBe(200);
    expect(again.body).not.toHaveProperty('secret');
    expect(Channel.parse(again.body)).toMatchObject({ hasSecret: true, events: null, createdAt: created.createdAt });
    const got = await m.api.getChannel('ops-hook');
    expect(JSON.stringify(got)).not.toContain(created.secret);
    expect(got.hasSecret).toBe(true);

    // a given secret is kept as given, and never shown
    const own = await m.api.putChannel('own-secret', { kind: 'webhook', url: 'http://127.0.0.1:9/x', secret: 'my-own-secret-0123456789' });
    expect(own.created).toBe(true);
    expect(own.channel.secret).toBeUndefined();
  });

  it('a slack channel: no secret, its URL masked', async () => {
    const r = await m.api.putChannel('ops-slack', { kind: 'slack', url: SLACK, instanceTreeId: 'shop' });
    expect(r.created).toBe(true);
    expect(r.channel).toMatchObject({ kind: 'slack', hasSecret: false, instanceTreeId: 'shop', url: 'https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcd…' });
    expect(r.channel.secret).toBeUndefined();
  });

  it('bad input: 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ kind: 'email', url: 'https://x.example' }, 'body.kind'],
      [{ kind: 'webhook', url: 'ftp://x.example/' }, 'body.url'],
      [{ kind: 'webhook', url: 'https://x.example/', secret: 'short' }, 'body.secret'],
      [{ kind: 'slack', url: SLACK, secret: 'a-secret-of-enough-length' }, 'body.secret'],
      [{ kind: 'webhook', url: 'https://x.example/', events: ['nope'] }, 'body.events'],
      [{ kind: 'webhook', url: 'https://x.example/', instanceTreeId: 'bad id' }, 'body.instanceTreeId'],
    ];
    for (const [body, field] of cases) {
      const r = await m.call('PUT', '/v1/channels/c1', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(errorBody(r).message).toContain(field);
    }
    const badId = await m.call('PUT', '/v1/channels/bad%20id', { kind: 'webhook', url: 'https://x.example/' });
    expect(badId.status).toBe(400);
    expect(errorBody(badId).message).toContain('param.channelId');
  });

  it('admin only: no token 401, a computer token 403', async () => {
    const token = await addComputer(m, 'COMP-CH');
    expect((await m.call('GET', '/v1/channels', undefined, null)).status).toBe(401);
    expect((await m.call('PUT', '/v1/channels/x', { kind: 'webhook', url: 'https://x.example/' }, token)).status).toBe(403);
    expect((await m.call('GET', '/v1/events', undefined, token)).status).toBe(403);
    expect((await m.call('GET', '/v1/silences', undefined, token)).status).toBe(403);
  });

  it('pages: limit and nextCursor; a cursor of another list is a 400', async () => {
    for (let i = 0; i < 5; i++) await m.api.putChannel(`page-${i}`, { kind: 'webhook', url: `https://x.example/${i}` });
    const first = await m.api.listChannels({ limit: 2 });
    expect(first.channels).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const ids: string[] = [];
    for await (const p of allPages((cursor) => m.api.listChannels({ limit: 2, ...(cursor ? { cursor } : {}) }))) ids.push(...p.channels.map((c) => c.channelId));
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['ops-hook', 'ops-slack', 'page-0', 'page-4']));
    expect(new Set(ids).size).toBe(ids.length);
    const bad = await m.call('GET', `/v1/silences?cursor=${encodeURIComponent(first.nextCursor as string)}`);
    expect(bad.status).toBe(400);
    expect(errorBody(bad).message).toContain('query.cursor');
    expect((await m.call('GET', '/v1/channels?cursor=garbage!!')).status).toBe(400);
    expect((await m.call('GET', '/v1/channels?limit=0')).status).toBe(400);
    expect((await m.call('GET', '/v1/channels?limit=1001')).status).toBe(400);
  });

  it('DELETE drops the channel (404 after)', async () => {
    await m.api.putChannel('gone', { kind: 'webhook', url: 'https://x.example/' });
    expect(await m.api.deleteChannel('gone')).toEqual({ channelId: 'gone', deleted: true, dropped: 0 });
    await expect(m.api.getChannel('gone')).rejects.toMatchObject({ status: 404 });
    await expect(m.api.deleteChannel('gone')).rejects.toBeInstanceOf(VigilApiError);
  });
});

describe('silences', () => {
  it('PUT, GET, list (?active=true), DELETE ends it and it stays listed', async () => {
    const now = m.clock.now();
    const startsAt = new Date(now.getTime() - 60_000).toISOString();
    const endsAt = new Date(now.getTime() + 3_600_000).toISOString();
    const r = await m.call('PUT', '/v1/silences/maint-1', { match: { computerId: 'COMP-1' }, startsAt, endsAt, reason: 'disk swap' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ silenceId: 'maint-1', active: true, endedAt: null, reason: 'disk swap' });
    await m.api.putSilence('later', { match: { instanceTreeId: 'shop' }, startsAt: endsAt, endsAt: new Date(now.getTime() + 7_200_000).toISOString(), reason: 'later' });
    expect((await m.api.putSilence('maint-1', { match: { computerId: 'COMP-1' }, startsAt, endsAt, reason: 'disk swap, again' })).created).toBe(false);

    expect((await m.api.listSilences()).silences.map((s) => s.silenceId)).toEqual(['later', 'maint-1']);
    expect((await m.api.listSilences({ active: 'true' })).silences.map((s) => s.silenceId)).toEqual(['maint-1']);

    m.clock.advance(1000);
    const ended = await m.api.endSilence('maint-1');
    expect(ended).toMatchObject({ active: false, endedAt: m.clock.now().toISOString() });
    expect((await m.api.getSilence('maint-1')).active).toBe(false);
    expect((await m.api.listSilences()).silences.map((s) => s.silenceId)).toEqual(['later', 'maint-1']);
    expect((await m.api.listSilences({ active: 'true' })).silences).toEqual([]);
    // ending again changes nothing
    m.clock.advance(1000);
    expect((await m.api.endSilence('maint-1')).endedAt).toBe(ended.endedAt);
    await expect(m.api.endSilence('nope')).rejects.toMatchObject({ status: 404 });
  });

  it('bad input: 400 naming the field', async () => {
    const ok = { match: { partitionId: 'p1' }, startsAt: '2025-06-01T00:00:00Z', endsAt: '2025-06-02T00:00:00Z', reason: 'r' };
    const cases: [unknown, string][] = [
      [{ ...ok, match: {} }, 'body.match'],
      [{ ...ok, match: { partitionId: 'p1', computerId: 'c1' } }, 'body.match'],
      [{ ...ok, endsAt: ok.startsAt }, 'body.endsAt'],
      [{ ...ok, endsAt: '2027-06-02T00:00:00Z' }, 'body.endsAt'],
      [{ ...ok, reason: ' ' }, 'body.reason'],
      [{ ...ok, startsAt: 'tomorrow' }, 'body.startsAt'],
    ];
    for (const [body, field] of cases) {
      const r = await m.call('PUT', '/v1/silences/s1', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(errorBody(r).message).toContain(field);
    }
  });
});

describe('events', () => {
  it('recorded events, newest first, filtered, with their delivery state per channel', async () => {
    const at = (s: number) => new Date(m.clock.now().getTime() + s * 1000).toISOString();
    const bang = (n: number, partitionId: string) =>
      bangAcceptedEvent({
        bang: { bangId: `b${n}`, partitionId, computerId: 'COMP-E', instanceTreeId: 'shop', source: 'manual', message: `m${n}` },
        fannedOutTo: 1,
        partitionIds: [partitionId],
        partitionCount: 1,
        at: at(n),
        silences: [],
        baseUrl: 'http://127.0.0.1:8787',
      });
    const events = [bang(1, 'ev-p1'), bang(2, 'ev-p2'), bang(3, 'ev-p1')];
    const r = await publishEvents(m.deps, events);
    expect(r.recorded).toBe(3);
    // the same again: nothing doubled
    expect(await publishEvents(m.deps, events)).toEqual({ recorded: 0, known: 3, queued: 0 });

    const all = await m.api.listEvents({ computerId: 'COMP-E' });
    expect(all.events.map((e) => e.event.eventId)).toEqual([events[2]!.eventId, events[1]!.eventId, events[0]!.eventId]);
    const first = all.events[2]!;
    expect(first.sendable).toBe(true);
    // webhook channels take bang events unless filtered; the slack channel is for tree shop
    const byChannel = Object.fromEntries((first.deliveries ?? []).map((d) => [d.channelId, d]));
    expect(byChannel['ops-hook']).toMatchObject({ action: 'send', state: 'queued', attempts: 0 });
    expect(byChannel['ops-slack']).toMatchObject({ action: 'send', state: 'queued' });

    expect((await m.api.listEvents({ partitionId: 'ev-p1' })).events.map((e) => e.event.eventId)).toEqual([events[2]!.eventId, events[0]!.eventId]);
    expect((await m.api.listEvents({ computerId: 'COMP-E', type: 'partition.colour' })).events).toEqual([]);
    const page1 = await m.api.listEvents({ computerId: 'COMP-E', limit: 2 });
    expect(page1.events).toHaveLength(2);
    const page2 = await m.api.listEvents({ computerId: 'COMP-E', limit: 2, cursor: page1.nextCursor as string });
    expect(page2.events.map((e) => e.event.eventId)).toEqual([events[0]!.eventId]);
    expect((await m.call('GET', '/v1/events?type=nope')).status).toBe(400);
  });

  it('the channel shows its backlog; DELETE drops its queue', async () => {
    const ch = await m.api.getChannel('ops-slack');
    expect(ch.backlog).toBeGreaterThanOrEqual(3);
    const del = await m.api.deleteChannel('ops-slack');
    expect(del.dropped).toBe(ch.backlog);
  });

  it('GET /openapi.json documents the new paths', async () => {
    const r = await m.call('GET', '/openapi.json', undefined, null);
    const paths = Object.keys((r.body as { paths: Record<string, unknown> }).paths);
    expect(paths).toEqual(expect.arrayContaining(['/v1/channels', '/v1/channels/{channelId}', '/v1/silences', '/v1/silences/{silenceId}', '/v1/events']));
  });
});
