// The typed client (protocol/client.ts) without a master: a fake fetch answers.
import { expect, it } from 'vitest';
import { createVigilClient, type FetchLike, VigilApiError } from '../../protocol/client.ts';

const answer =
  (status: number, body: unknown, headers: Record<string, string> = {}): FetchLike =>
  () =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const health = { status: 'ok', time: '2025-01-01T00:00:00.000Z' };

it('sends the token and the JSON body, and returns the answer parsed by the protocol schema', async () => {
  const seen: { url: string; init: RequestInit }[] = [];
  const client = createVigilClient({
    baseUrl: 'http://master/',
    token: 'tok',
    fetch: (url, init) => {
      seen.push({ url, init });
      return new Response(JSON.stringify({ bangId: 'b1', fannedOutTo: 3, extra: 'dropped' }), { status: 202, headers: { 'content-type': 'application/json' } });
    },
  });
  expect(await client.bang('p 1', { bangId: 'b1', message: 'm', source: 'manual' })).toEqual({ bangId: 'b1', fannedOutTo: 3 });
  expect(seen[0]?.url).toBe('http://master/v1/partitions/p%201/bang');
  expect(seen[0]?.init.method).toBe('POST');
  expect(new Headers(seen[0]?.init.headers).get('authorization')).toBe('Bearer tok');
  expect(JSON.parse(String(seen[0]?.init.body))).toEqual({ bangId: 'b1', message: 'm', source: 'manual' });
});

it('an error answer is one VigilApiError: status, code, message, details, Retry-After', async () => {
  const client = createVigilClient({
    fetch: answer(429, { error: 'too_many_bangs', message: 'over quota', details: { day: '2025-01-01' } }, { 'retry-after': '60' }),
  });
  const err = await client.bang('p1', { bangId: 'b', message: 'm', source: 'promise' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(VigilApiError);
  expect(err).toMatchObject({ status: 429, code: 'too_many_bangs', message: 'over quota', details: { day: '2025-01-01' }, retryAfterSeconds: 60, request: 'POST /v1/partitions/p1/bang' });
});

it('an answer that is not the protocol’s is a bad_response, a master out of reach is status 0', async () => {
  await expect(createVigilClient({ fetch: answer(200, { ...health, status: 'maybe' }) }).health()).rejects.toMatchObject({ status: 200, code: 'bad_response' });
  // the right JSON with another content type is not the master's answer either (a proxy, a portal)
  const html = () => new Response(JSON.stringify(health), { status: 200, headers: { 'content-type': 'text/html' } });
  await expect(createVigilClient({ fetch: html }).health()).rejects.toMatchObject({ status: 200, code: 'bad_response' });
  await expect(createVigilClient({ fetch: answer(200, health) }).health()).resolves.toEqual(health);
  const down = createVigilClient({ baseUrl: 'http://127.0.0.1:1', fetch: () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })) });
  await expect(down.health()).rejects.toMatchObject({ status: 0, code: 'unreachable', message: 'cannot reach the master at http://127.0.0.1:1: ECONNREFUSED' });
});

it('putComputer tells a registration (token, shown once) from an update; raw() gives the exact status', async () => {
  const created = createVigilClient({ fetch: answer(201, { computerId: 'c1', token: 'vc1.x.y' }) });
  expect(await created.putComputer('c1')).toEqual({ created: true, token: { computerId: 'c1', token: 'vc1.x.y' } });
  const raw = await createVigilClient({ fetch: answer(400, 'not json') }).raw('PUT', '/v1/computers/c1', { body: '{' });
  expect(raw).toMatchObject({ status: 400, text: 'not json', body: 'not json' });
});
