// Delivery of one event to one channel: one HTTP POST, classified. Never throws for HTTP or
// network failures: the caller (the queue, see queue-rules.ts) acts on the outcome.
//   delivered: 2xx
//   retry:     network error, timeout, 5xx, 408, 425, 429 (Retry-After honoured)
//   dead:      3xx (redirects are never followed) and every other 4xx: the receiver
//              refuses this event; it stays recorded and the channel's queue moves on.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { VigilEvent } from '../../protocol/events.ts';
import { channelBody } from './format.ts';

/** The version in User-Agent (test/unit/notify-deliver.test.ts keeps it equal to package.json). */
export const VIGIL_VERSION = '0.1.0';
export const USER_AGENT = `vigil/${VIGIL_VERSION}`;
export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
/** Of an error answer, this much is read (to show what the receiver said); the rest is dropped. */
export const RESPONSE_READ_MAX_BYTES = 4096;
/** Characters of the receiver's answer kept in the error message. */
export const RESPONSE_SNIPPET_MAX = 200;

export interface DeliveryTarget {
  kind: 'webhook' | 'slack';
  url: string;
  /** Webhooks: the HMAC key of X-Vigil-Signature (no signature header when null). */
  secret: string | null;
}

export interface DeliverOptions {
  /** Injected for tests of the caller; the default is the global fetch. */
  fetch?: typeof fetch;
  /** Budget of the whole exchange: connect, request, response headers, bounded body read. */
  timeoutMs?: number;
  /** The master clock (Retry-After as an HTTP date is relative to it). */
  now?: () => Date;
  /** 1 for the first attempt: sent as X-Vigil-Attempt when given. */
  attempt?: number;
}

export type DeliveryOutcome =
  | { result: 'delivered'; status: number; durationMs: number }
  | { result: 'retry'; status?: number; error: string; retryAfter: Date | null; durationMs: number }
  | { result: 'dead'; status?: number; error: string; durationMs: number };

/** `sha256=<hex HMAC-SHA256 of the raw body, keyed by the secret's UTF-8 bytes>`. */
export function signBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does (constant-time): true iff the header is the signature of these bytes. */
export function verifySignature(secret: string, rawBody: string | Uint8Array, header: string | null | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(secret, rawBody));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The request, without I/O: body (exact bytes that are signed) and headers. */
export function deliveryRequest(target: DeliveryTarget, event: VigilEvent, attempt?: number): { body: string; headers: Record<string, string> } {
  const body = channelBody(target.kind, event);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-vigil-event-id': event.eventId,
    'x-vigil-event-type': event.type,
  };
  if (target.secret) headers['x-vigil-signature'] = signBody(target.secret, body);
  if (attempt !== undefined) headers['x-vigil-attempt'] = String(attempt);
  return { body, headers };
}

/** Retry-After: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: Date): Date | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const s = Number(v);
    return Number.isSafeInteger(s) ? new Date(now.getTime() + s * 1000) : null;
  }
  const t = Date.parse(v);
  if (!Number.isFinite(t) || !/[a-z]/i.test(v)) return null;
  return new Date(Math.max(t, now.getTime()));
}

export type StatusClass = 'delivered' | 'retry' | 'dead';

export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return 'delivered';
  if (status >= 500 || status === 408 || status === 425 || status === 429) return 'retry';
  return 'dead';
}

/** Printable, one line, short: what a receiver said, fit for a log line and an API field. */
function snippet(text: string): string {
  const one = text
    .replace(/[\u0000-\u001f\u007f-\u009f\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return one.length > RESPONSE_SNIPPET_MAX ? `${one.slice(0, RESPONSE_SNIPPET_MAX - 1)}…` : one;
}

async function readBounded(res: Response, max: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch {
    // timeout or reset while reading an error body: what we have is enough
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

function describeFailure(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `timed out after ${timeoutMs} ms`;
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause;
  const detail = cause?.code ? `${cause.code}${cause.message ? ` (${cause.message})` : ''}` : (cause?.message ?? e?.message ?? String(err));
  return `network error: ${snippet(detail)}`;
}

function origin(location: string | null, base: string): string {
  if (!location) return 'no Location';
  try {
    return new URL(location, base).origin;
  } catch {
    return 'an unreadable Location';
  }
}

/** POST the event to the channel and classify the answer. */
export async function deliver(target: DeliveryTarget, event: VigilEvent, opts: DeliverOptions = {}): Promise<DeliveryOutcome> {
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  const now = opts.now ?? (() => new Date());
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);

  let url: URL;
  try {
    url = new URL(target.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    return { result: 'dead', error: 'the channel URL is not an http(s) URL', durationMs: elapsed() };
  }
  const { body, headers } = deliveryRequest(target, event, opts.attempt);

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    let res: Response;
    try {
      res = await doFetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: controller.signal });
    } catch (err) {
      return { result: 'retry', error: describeFailure(err, timedOut, timeoutMs), retryAfter: null, durationMs: elapsed() };
    }
    const status = res.status;
    const cls = classifyStatus(status);
    if (cls === 'delivered') {
      res.body?.cancel().catch(() => {});
      return { result: 'delivered', status, durationMs: elapsed() };
    }
    if (status >= 300 && status < 400) {
      res.body?.cancel().catch(() => {});
      return {
        result: 'dead',
        status,
        error: `HTTP ${status}: redirect to ${origin(res.headers.get('location'), url.href)}; vigil does not follow redirects, set the channel URL to the final address`,
        durationMs: elapsed(),
      };
    }
    const said = snippet(await readBounded(res, RESPONSE_READ_MAX_BYTES));
    const error = `HTTP ${status}${said ? `: ${said}` : ''}`;
    if (cls === 'retry') {
      return { result: 'retry', status, error, retryAfter: parseRetryAfter(res.headers.get('retry-after'), now()), durationMs: elapsed() };
    }
    return { result: 'dead', status, error, durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}
