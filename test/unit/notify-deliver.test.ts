import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialPartitionNotifyState, observePartition } from '../../functions/notify/derive.ts';
import {
  USER_AGENT,
  VIGIL_VERSION,
  classifyStatus,
  deliveryRequest,
  parseRetryAfter,
  signBody,
  verifySignature,
} from '../../functions/notify/deliver.ts';
import { slackMessage, webhookBody } from '../../functions/notify/format.ts';

const now = new Date('2025-05-01T10:00:00.000Z');
const event = observePartition({
  partition: { partitionId: 'p1', computerId: 'C1', instanceTreeId: 't1' },
  before: 'green',
  after: { colour: 'red', reason: 'promise x failed', since: now.toISOString() },
  at: now.toISOString(),
  state: { ...initialPartitionNotifyState(), announced: 'green' },
  computerColour: 'green',
  bangInProgress: null,
  silences: [],
  baseUrl: 'http://127.0.0.1:8787',
}).events[0]!;

describe('signature', () => {
  it('is sha256=<hex HMAC-SHA256> (RFC 4231 test case 2)', () => {
    expect(signBody('Jefe', 'what do ya want for nothing?')).toBe('sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
  it('property: verifies for the same secret and bytes only', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 16 }), fc.string({ minLength: 16 }), fc.string(), fc.string(), (s1, s2, b1, b2) => {
        expect(verifySignature(s1, b1, signBody(s1, b1))).toBe(true);
        expect(verifySignature(s1, Buffer.from(b1), signBody(s1, b1))).toBe(true);
        if (s1 !== s2) expect(verifySignature(s2, b1, signBody(s1, b1))).toBe(false);
        if (b1 !== b2) expect(verifySignature(s1, b2, signBody(s1, b1))).toBe(false);
      }),
    );
    expect(verifySignature('k'.repeat(16), 'x', undefined)).toBe(false);
    expect(verifySignature('k'.repeat(16), 'x', 'sha256=00')).toBe(false);
  });
});

describe('the request', () => {
  it('webhook: the event JSON, signed, with the event id and type', () => {
    const { body, headers } = deliveryRequest({ kind: 'webhook', url: 'http://x', secret: 'secret-secret-secret' }, event, 3);
    expect(body).toBe(webhookBody(event));
    expect(headers).toEqual({
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'x-vigil-event-id': event.eventId,
      'x-vigil-event-type': 'partition.colour',
      'x-vigil-signature': signBody('secret-secret-secret', body),
      'x-vigil-attempt': '3',
    });
  });
  it('slack: the Slack message, no signature', () => {
    const { body, headers } = deliveryRequest({ kind: 'slack', url: 'http://x', secret: null }, event);
    expect(JSON.parse(body)).toEqual(slackMessage(event));
    expect(headers['x-vigil-signature']).toBeUndefined();
    expect(headers['x-vigil-attempt']).toBeUndefined();
    expect(headers['x-vigil-event-id']).toBe(event.eventId);
  });
  it('User-Agent carries the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VIGIL_VERSION).toBe(pkg.version);
    expect(USER_AGENT).toBe(`vigil/${pkg.version}`);
  });
});

describe('classification', () => {
  it('2xx delivered; 5xx, 408, 425, 429 retried; every other status dead', () => {
    const table: [number, string][] = [
      [200, 'delivered'],
      [201, 'delivered'],
      [202, 'delivered'],
      [204, 'delivered'],
      [299, 'delivered'],
      [301, 'dead'],
      [302, 'dead'],
      [307, 'dead'],
      [308, 'dead'],
      [400, 'dead'],
      [401, 'dead'],
      [403, 'dead'],
      [404, 'dead'],
      [408, 'retry'],
      [410, 'dead'],
      [413, 'dead'],
      [422, 'dead'],
      [425, 'retry'],
      [429, 'retry'],
      [500, 'retry'],
      [502, 'retry'],
      [503, 'retry'],
      [504, 'retry'],
      [599, 'retry'],
    ];
    for (const [status, cls] of table) expect(classifyStatus(status), String(status)).toBe(cls);
  });
});

describe('Retry-After', () => {
  it('delay-seconds and HTTP dates; absent or unreadable → null; past dates → now', () => {
    expect(parseRetryAfter('120', now)?.getTime()).toBe(now.getTime() + 120_000);
    expect(parseRetryAfter(' 0 ', now)?.getTime()).toBe(now.getTime());
    expect(parseRetryAfter('Thu, 01 May 2025 10:05:00 GMT', now)?.toISOString()).toBe('2025-05-01T10:05:00.000Z');
    expect(parseRetryAfter('Wed, 30 Apr 2025 10:05:00 GMT', now)?.getTime()).toBe(now.getTime());
    for (const bad of [null, undefined, '', 'soon', '-5', '1.5', '99999999999999999999999']) expect(parseRetryAfter(bad, now), String(bad)).toBeNull();
  });
});
