// Dashboard login sessions, kept server side (issue 10). The cookie holds a random session
// id, `v2.<32 random bytes, base64url>`; the table holds one item per session under the
// SHA-256 of that id, with an expiry (TTL attribute) and an HMAC-SHA256 of the id keyed
// with the admin token. A page view reads that item (one strongly consistent GetItem):
//  - logout deletes it, so a copy of the cookie stops working at once;
//  - rotating the admin token changes the HMAC every session was made with, so every
//    session ends (as with the stateless cookies before);
//  - the table never holds the cookie value or anything to test admin-token guesses
//    against (the HMAC needs the session id, which only the browser has).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { constantTimeEqual } from '../auth.ts';
import type { SessionStore } from '../store/types.ts';

export const SESSION_COOKIE = 'vigil_session';
export const SESSION_TTL_SECONDS = 12 * 3600;

const COOKIE_PATTERN = /^v2\.([A-Za-z0-9_-]{43})$/;

export interface Sessions {
  /** A new session for this admin token: the cookie value. */
  create(adminToken: string): Promise<string>;
  /** True when the cookie names a live session made with this admin token. */
  verify(adminToken: string, cookie: string | undefined): Promise<boolean>;
  /** Ends the cookie's session (nothing when there is none). */
  revoke(cookie: string | undefined): Promise<void>;
}

const idOf = (cookie: string | undefined): string | null => (cookie ? (COOKIE_PATTERN.exec(cookie)?.[1] ?? null) : null);
const keyOf = (id: string): string => createHash('sha256').update(`vigil-session-v2:${id}`).digest('hex');
const macOf = (adminToken: string, id: string): string => createHmac('sha256', adminToken).update(`vigil-session-v2:${id}`).digest('hex');

export function createSessions(deps: { store: SessionStore; now: () => Date; ttlSeconds?: number }): Sessions {
  const ttl = deps.ttlSeconds ?? SESSION_TTL_SECONDS;
  return {
    async create(adminToken) {
      const id = randomBytes(32).toString('base64url');
      const now = deps.now();
      await deps.store.createSession({
        sessionKey: keyOf(id),
        mac: macOf(adminToken, id),
        createdAt: now.toISOString(),
        expiresAt: Math.floor(now.getTime() / 1000) + ttl,
      });
      return `v2.${id}`;
    },
    async verify(adminToken, cookie) {
      const id = idOf(cookie);
      if (!id || !adminToken) return false;
      const s = await deps.store.getSession(keyOf(id));
      return !!s && s.expiresAt * 1000 > deps.now().getTime() && constantTimeEqual(s.mac, macOf(adminToken, id));
    },
    async revoke(cookie) {
      const id = idOf(cookie);
      if (id) await deps.store.deleteSession(keyOf(id));
    },
  };
}

/**
 * True when a browser says the form was posted by another site. `Sec-Fetch-Site` (sent by
 * current browsers) decides when present: same-origin or none (typed, bookmarked) pass.
 * Otherwise `Origin` must name this request's Host (hosts only: a TLS-terminating proxy
 * changes the scheme); an opaque `null` origin is refused. Clients that send neither
 * (curl, scripts) are not browsers carrying someone's cookie, and pass.
 */
export function isCrossSite(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site) return site !== 'same-origin' && site !== 'none';
  const origin = c.req.header('origin');
  if (!origin) return false;
  try {
    return new URL(origin).host !== (c.req.header('host') ?? new URL(c.req.url).host);
  } catch {
    return true; // "null" or garbage
  }
}
