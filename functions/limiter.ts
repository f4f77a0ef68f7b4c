// Failure limiter of the master (issue 10): failed admin-token attempts (a wrong admin
// bearer on /v1, a wrong dashboard login) are counted per client address and over all
// clients, in memory, with token buckets. Past the limit, such failures are answered 429
// with Retry-After instead of 401, and the admin token is no longer compared for that
// client.
//
// It never locks out a computer presenting its valid token: computer tokens are always
// verified (they carry 256 random bits; the limiter is not what keeps them safe), and
// their failures are not counted (a stale token on one agent must not lock out the admin
// behind the same NAT or on the same host). The admin token can be a weak, user-chosen
// VIGIL_ADMIN_TOKEN, so a limited client gets no admin-token comparisons at all, not even
// for the right token: an admin behind the same address as an attacker waits for
// Retry-After (seconds), others are not affected. When only the global bucket is empty
// (guesses from many addresses), clients with no recent failure still get their
// admin-token comparisons.
//
// State is per process: the local master has one; on Lambda each warm container has its
// own (reserved concurrency bounds how many, see docs/decisions.md).
import { isIPv6 } from 'node:net';
import type { Context } from 'hono';

/** Failures one client address may make in a burst, then one more per refill period. */
export const ADDRESS_FAILURE_BURST = 10;
export const ADDRESS_FAILURE_REFILL_MS = 6_000;
/** Failures all clients together may make in a burst, then one more per refill period. */
export const GLOBAL_FAILURE_BURST = 200;
export const GLOBAL_FAILURE_REFILL_MS = 300;
/** Client addresses tracked at most (least recently failing forgotten first). */
export const MAX_TRACKED_ADDRESSES = 10_000;

/** The client address of a request, or null when it has none (an in-process call). */
export type ClientAddress = (c: Context) => string | null | undefined;

/** On Lambda: the function URL / HTTP API event's source IP (never X-Forwarded-For). */
export const lambdaClientAddress: ClientAddress = (c) => {
  const rc = (c.env as { requestContext?: { http?: { sourceIp?: string }; identity?: { sourceIp?: string } } } | undefined)?.requestContext;
  return rc?.http?.sourceIp ?? rc?.identity?.sourceIp ?? null;
};

/** What the limiter counts by: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = address.includes('::') ? [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

interface Bucket {
  tokens: number;
  at: number;
}

export interface LimiterState {
  /** This address used its own budget. */
  addressLimited: boolean;
  /** All clients together used theirs. */
  globalLimited: boolean;
  /** This address failed recently (its bucket is not full). */
  recentFailures: boolean;
  /** Seconds until a failure from this address would be answered 401 again. */
  retryAfterSeconds: number;
}

export interface LimiterOptions {
  addressBurst?: number;
  addressRefillMs?: number;
  globalBurst?: number;
  globalRefillMs?: number;
  maxAddresses?: number;
  /** Clock in ms (tests). */
  nowMs?: () => number;
}

export class FailureLimiter {
  private readonly addresses = new Map<string, Bucket>();
  private readonly global: Bucket;
  private readonly o: Required<LimiterOptions>;

  constructor(opts: LimiterOptions = {}) {
    this.o = {
      addressBurst: opts.addressBurst ?? ADDRESS_FAILURE_BURST,
      addressRefillMs: opts.addressRefillMs ?? ADDRESS_FAILURE_REFILL_MS,
      globalBurst: opts.globalBurst ?? GLOBAL_FAILURE_BURST,
      globalRefillMs: opts.globalRefillMs ?? GLOBAL_FAILURE_REFILL_MS,
      maxAddresses: opts.maxAddresses ?? MAX_TRACKED_ADDRESSES,
      nowMs: opts.nowMs ?? Date.now,
    };
    this.global = { tokens: this.o.globalBurst, at: this.o.nowMs() };
  }

  private refill(b: Bucket, burst: number, refillMs: number, now: number): void {
    b.tokens = Math.min(burst, b.tokens + (now - b.at) / refillMs);
    b.at = now;
  }

  state(address: string): LimiterState {
    const now = this.o.nowMs();
    this.refill(this.global, this.o.globalBurst, this.o.globalRefillMs, now);
    const b = this.addresses.get(addressKey(address));
    if (b) this.refill(b, this.o.addressBurst, this.o.addressRefillMs, now);
    const addressLimited = !!b && b.tokens < 1;
    const globalLimited = this.global.tokens < 1;
    const wait = (tokens: number, refillMs: number) => Math.max(1, Math.ceil(((1 - tokens) * refillMs) / 1000));
    let retryAfterSeconds = 0;
    if (addressLimited && b) retryAfterSeconds = wait(b.tokens, this.o.addressRefillMs);
    if (globalLimited) retryAfterSeconds = Math.max(retryAfterSeconds, wait(this.global.tokens, this.o.globalRefillMs));
    return { addressLimited, globalLimited, recentFailures: !!b && b.tokens < this.o.addressBurst, retryAfterSeconds };
  }

  /** No admin-token comparison for this address now: its Retry-After, else 0. */
  guessesBlocked(address: string): number {
    const s = this.state(address);
    return s.addressLimited || (s.globalLimited && s.recentFailures) ? s.retryAfterSeconds : 0;
  }

  /** Counts one failure: its Retry-After when it is over a limit (answer 429), else 0 (401). */
  fail(address: string): number {
    const s = this.state(address);
    const key = addressKey(address);
    const b = this.addresses.get(key) ?? { tokens: this.o.addressBurst, at: this.o.nowMs() };
    this.addresses.delete(key);
    this.addresses.set(key, { tokens: Math.max(0, b.tokens - 1), at: b.at });
    if (this.addresses.size > this.o.maxAddresses) {
      const oldest = this.addresses.keys().next().value;
      if (oldest !== undefined) this.addresses.delete(oldest);
    }
    this.global.tokens = Math.max(0, this.global.tokens - 1);
    return s.addressLimited || s.globalLimited ? s.retryAfterSeconds : 0;
  }
}

/** The limiter as the app and the dashboard use it: by the request's client address. */
export class AuthGuard {
  constructor(
    readonly limiter: FailureLimiter,
    private readonly clientAddress: ClientAddress,
  ) {}

  private address(c: Context): string | null {
    try {
      return this.clientAddress(c) || null;
    } catch {
      return null;
    }
  }

  /** Seconds to wait before this client may try the admin token again (0: now). */
  guessesBlocked(c: Context): number {
    const a = this.address(c);
    return a ? this.limiter.guessesBlocked(a) : 0;
  }

  /** Counts a failed authentication: Retry-After seconds when it must be answered 429, else 0. */
  fail(c: Context): number {
    const a = this.address(c);
    return a ? this.limiter.fail(a) : 0;
  }
}
