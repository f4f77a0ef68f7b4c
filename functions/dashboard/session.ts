// Dashboard login sessions. The cookie never holds the admin token: it holds an expiry and
// an HMAC-SHA256 of it, keyed with a key derived from the admin token. Rotating the admin
// token therefore invalidates every session; nothing is stored server side.
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../auth.ts';

export { constantTimeEqual };

export const SESSION_COOKIE = 'vigil_session';
export const SESSION_TTL_SECONDS = 12 * 3600;

function sessionKey(adminToken: string): Buffer {
  return createHmac('sha256', 'vigil-dashboard-session-v1').update(adminToken).digest();
}

function mac(adminToken: string, payload: string): string {
  return createHmac('sha256', sessionKey(adminToken)).update(payload).digest('base64url');
}

/** Cookie value for a session valid until now + ttl: `v1.<expiry epoch s>.<mac>`. */
export function signSession(adminToken: string, now: Date, ttlSeconds = SESSION_TTL_SECONDS): string {
  const expiry = Math.floor(now.getTime() / 1000) + ttlSeconds;
  const payload = `v1.${expiry}`;
  return `${payload}.${mac(adminToken, payload)}`;
}

/** True when the cookie value was signed with this admin token and has not expired. */
export function verifySession(adminToken: string, value: string | undefined, now: Date): boolean {
  if (!value || !adminToken || value.length > 200) return false;
  const match = /^(v1\.(\d{1,12}))\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match) return false;
  const payload = match[1]!;
  const expiry = Number(match[2]);
  if (!constantTimeEqual(mac(adminToken, payload), match[3]!)) return false;
  return expiry * 1000 > now.getTime();
}
