// deliver() against real HTTP receivers on 127.0.0.1 (no mocked fetch): what they receive,
// and how each kind of answer (or non-answer) is classified.
import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DeliveryTarget, USER_AGENT, deliver } from '../../functions/notify/deliver.ts';
import { bangAcceptedEvent, initialPartitionNotifyState, observePartition } from '../../functions/notify/derive.ts';
import { slackMessage } from '../../functions/notify/format.ts';
import { VigilEvent } from '../../protocol/events.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';

const SECRET = 'vwh1_test-secret-0123456789abcdef';
const now = new Date('2025-05-01T10:00:00.000Z');
const fixedNow = () => now;

const event = observePartition({
  partition: { partitionId: 'slappart0', computerId: 'COMP-1', instanceTreeId: 'tree-1' },
  before: 'green',
  // non-ASCII and bidi text: the signature must cover the exact UTF-8 bytes
  after: { colour: 'red', reason: 'promise check-site failed: “503” — \u202Eevil', since: now.toISOString() },
  at: now.toISOString(),
  state: { ...initialPartitionNotifyState(), announced: 'green' },
  computerColour: 'green',
  bangInProgress: null,
  silences: [],
  baseUrl: 'http://127.0.0.1:8787',
}).events[0]!;

let rx: Receiver;
const webhook = (): DeliveryTarget => ({ kind: 'webhook', url: `${rx.url}/hook?x=1`, secret: SECRET });

beforeAll(async () => {
  rx = await startReceiver();
});
afterAll(async () => {
  await rx.close();
});
afterEach(() => {
  rx.requests.length = 0;
  rx.behave({ kind: 'status', status: 200 });
});

describe('what a webhook receives', () => {
  it('POST of the event JSON with a signature the receiver can verify over the raw bytes', async () => {
    const out = await deliver(webhook(), event, { timeoutMs: 20_000, now: fixedNow, attempt: 1 });
    expect(out).toMatchObject({ result: 'delivered', status: 200 });
    const [req] = rx.requests;
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe('/hook?x=1');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['user-agent']).toBe(USER_AGENT);
    expect(req!.headers['x-vigil-event-id']).toBe(event.eventId);
    expect(req!.headers['x-vigil-event-type']).toBe('partition.colour');
    expect(req!.headers['x-vigil-attempt']).toBe('1');
    // the receiver's own verification, as in docs/notifications.md
    const expected = `sha256=${createHmac('sha256', SECRET).update(req!.rawBody).digest('hex')}`;
    expect(req!.headers['x-vigil-signature']).toBe(expected);
    const body = JSON.parse(req!.rawBody.toString('utf8'));
    expect(VigilEvent.parse(body)).toEqual(event);
    expect(body.eventId).toBe(req!.headers['x-vigil-event-id']);
    // one tampered byte and the signature no longer verifies
    const tampered = Buffer.from(req!.rawBody);
    tampered[tampered.length - 2]! ^= 1;
    expect(`sha256=${createHmac('sha256', SECRET).update(tampered).digest('hex')}`).not.toBe(expected);
  });

  it('the same event delivered twice carries the same id and the same bytes (receivers dedup)', async () => {
    await deliver(webhook(), event, { timeoutMs: 20_000 });
    await deliver(webhook(), VigilEvent.parse(JSON.parse(JSON.stringify(event))), { timeoutMs: 20_000 });
    const [a, b] = rx.requests;
    expect(a!.headers['x-vigil-event-id']).toBe(b!.headers['x-vigil-event-id']);
    expect(a!.rawBody.equals(b!.rawBody)).toBe(true);
    expect(a!.headers['x-vigil-signature']).toBe(b!.headers['x-vigil-signature']);
  });

  it('a slack channel gets {text, blocks}, unsigned', async () => {
    const bang = bangAcceptedEvent({
      bang: { bangId: 'b1', partitionId: 'slappart0', computerId: 'COMP-1', instanceTreeId: 'tree-1', source: 'promise', message: 'x <!channel>' },
      fannedOutTo: 2,
      partitionIds: ['slappart0', 'slappart1'],
      partitionCount: 2,
      at: now.toISOString(),
      silences: [],
      baseUrl: 'http://127.0.0.1:8787',
    });
    const out = await deliver({ kind: 'slack', url: `${rx.url}/services/T/B/x`, secret: null }, bang, { timeoutMs: 20_000 });
    expect(out.result).toBe('delivered');
    const [req] = rx.requests;
    expect(req!.headers['x-vigil-signature']).toBeUndefined();
    expect(req!.headers['x-vigil-event-id']).toBe(bang.eventId);
    const body = JSON.parse(req!.rawBody.toString('utf8'));
    expect(body).toEqual(slackMessage(bang));
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
    expect(JSON.stringify(body)).not.toContain('<!channel>');
  });
});

describe('classification of answers', () => {
  const cases: { name: string; status: number; headers?: Record<string, string>; body?: string; expect: Record<string, unknown> }[] = [
    { name: '200', status: 200, expect: { result: 'delivered', status: 200 } },
    { name: '204', status: 204, expect: { result: 'delivered', status: 204 } },
    { name: '400 (refused: dead, says why)', status: 400, body: 'invalid_payload', expect: { result: 'dead', status: 400, error: 'HTTP 400: invalid_payload' } },
    { name: '410 (gone: dead)', status: 410, body: 'channel_is_archived', expect: { result: 'dead', status: 410, error: 'HTTP 410: channel_is_archived' } },
    { name: '500 (retry)', status: 500, body: 'boom', expect: { result: 'retry', status: 500, error: 'HTTP 500: boom', retryAfter: null } },
    {
      name: '429 + Retry-After seconds (retry then)',
      status: 429,
      headers: { 'retry-after': '30' },
      expect: { result: 'retry', status: 429, retryAfter: new Date(now.getTime() + 30_000) },
    },
    {
      name: '429 + Retry-After date',
      status: 429,
      headers: { 'retry-after': 'Thu, 01 May 2025 11:00:00 GMT' },
      expect: { result: 'retry', status: 429, retryAfter: new Date('2025-05-01T11:00:00Z') },
    },
    {
      name: '503 + Retry-After (retry then)',
      status: 503,
      headers: { 'retry-after': '120' },
      body: 'maintenance',
      expect: { result: 'retry', status: 503, error: 'HTTP 503: maintenance', retryAfter: new Date(now.getTime() + 120_000) },
    },
    { name: '408 (retry)', status: 408, expect: { result: 'retry', status: 408 } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      rx.behave({ kind: 'status', status: c.status, ...(c.headers ? { headers: c.headers } : {}), ...(c.body ? { body: c.body } : {}) });
      const out = await deliver(webhook(), event, { timeoutMs: 20_000, now: fixedNow });
      expect(out).toMatchObject(c.expect);
      expect(rx.requests).toHaveLength(1);
    });
  }

  it('a 3xx is dead and never followed (to another host or the same)', async () => {
    const other = await startReceiver();
    try {
      for (const status of [301, 302, 307, 308]) {
        rx.behave({ kind: 'status', status, headers: { location: `${other.url}/elsewhere?token=abc` } });
        const out = await deliver(webhook(), event, { timeoutMs: 20_000 });
        expect(out).toMatchObject({ result: 'dead', status });
        if (out.result === 'dead') {
          expect(out.error).toContain(`redirect to ${other.url}`);
          expect(out.error).not.toContain('token=abc');
          expect(out.error).toMatch(/does not follow redirects/);
        }
      }
      rx.behave({ kind: 'status', status: 307, headers: { location: '/hook2' } });
      expect((await deliver(webhook(), event, { timeoutMs: 20_000 })).result).toBe('dead');
      expect(other.requests).toHaveLength(0);
      expect(rx.requests.map((r) => r.url)).not.toContain('/hook2');
    } finally {
      await other.close();
    }
  });

  it('an endless answer is read only so far (2xx at once, error bodies up to 4 KiB)', async () => {
    rx.behave({ kind: 'stream', status: 200 });
    expect(await deliver(webhook(), event, { timeoutMs: 20_000 })).toMatchObject({ result: 'delivered', status: 200 });
    rx.behave({ kind: 'stream', status: 502, chunk: 'bad gateway '.repeat(1000) });
    const out = await deliver(webhook(), event, { timeoutMs: 20_000 });
    expect(out).toMatchObject({ result: 'retry', status: 502 });
    if (out.result === 'retry') {
      expect(out.error.startsWith('HTTP 502: bad gateway bad gateway')).toBe(true);
      expect(out.error.length).toBeLessThanOrEqual(220);
    }
  });

  it('control and bidi characters of an answer do not reach the error text', async () => {
    rx.behave({ kind: 'status', status: 400, body: 'line1\r\nline2\u202E\u0007' });
    const out = await deliver(webhook(), event, { timeoutMs: 20_000 });
    expect(out).toMatchObject({ result: 'dead', error: 'HTTP 400: line1 line2' });
  });
});

describe('failures without an answer', () => {
  it('connection reset → retry', async () => {
    rx.behave({ kind: 'reset' });
    const out = await deliver(webhook(), event, { timeoutMs: 20_000 });
    expect(out.result).toBe('retry');
    if (out.result === 'retry') {
      expect(out.error).toMatch(/^network error: (ECONNRESET|UND_ERR_SOCKET)/);
      expect(out.status).toBeUndefined();
      expect(out.retryAfter).toBeNull();
    }
  });

  it('connection closed without an answer → retry', async () => {
    rx.behave({ kind: 'close' });
    const out = await deliver(webhook(), event, { timeoutMs: 20_000 });
    expect(out.result).toBe('retry');
    if (out.result === 'retry') expect(out.error).toMatch(/^network error: /);
  });

  it('connection refused → retry', async () => {
    const gone = await startReceiver();
    const url = gone.url;
    await gone.close();
    const out = await deliver({ kind: 'webhook', url, secret: SECRET }, event, { timeoutMs: 20_000 });
    expect(out.result).toBe('retry');
    if (out.result === 'retry') expect(out.error).toMatch(/ECONNREFUSED/);
  });

  it('a receiver that never answers → retry after the timeout', async () => {
    rx.behave({ kind: 'hang' });
    const out = await deliver(webhook(), event, { timeoutMs: 1000 });
    expect(out).toMatchObject({ result: 'retry', error: 'timed out after 1000 ms', retryAfter: null });
    expect(out.durationMs).toBeGreaterThanOrEqual(950);
    // the request did arrive: the receiver just never answered
    await rx.waitForRequests(1);
  });

  it('a slow receiver that answers within the timeout → delivered', async () => {
    rx.behave({ kind: 'status', status: 202, delayMs: 300 });
    const out = await deliver(webhook(), event, { timeoutMs: 30_000 });
    expect(out).toMatchObject({ result: 'delivered', status: 202 });
    expect(out.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('a URL that is not http(s) is dead without a request', async () => {
    const out = await deliver({ kind: 'webhook', url: 'file:///etc/passwd', secret: SECRET }, event, { timeoutMs: 20_000 });
    expect(out).toMatchObject({ result: 'dead' });
    expect(rx.requests).toHaveLength(0);
  });

  it('after errors and timeouts, the next delivery to the same receiver works', async () => {
    rx.behave({ kind: 'status', status: 413, body: 'too big' });
    expect((await deliver(webhook(), event, { timeoutMs: 20_000 })).result).toBe('dead');
    rx.behave({ kind: 'hang' });
    expect((await deliver(webhook(), event, { timeoutMs: 300 })).result).toBe('retry');
    rx.behave({ kind: 'status', status: 200 });
    expect((await deliver(webhook(), event, { timeoutMs: 20_000 })).result).toBe('delivered');
  });
});
