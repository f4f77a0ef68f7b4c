// Tokens. A computer token is `vc1.<base64url(computerId)>.<secret>`: the computer id in
// it lets one read fetch the computer (and its partitions); only the SHA-256 of the whole
// token is stored, and hashes are compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'vc1';

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

export function newComputerToken(computerId: string): string {
  return `${PREFIX}.${Buffer.from(computerId, 'utf8').toString('base64url')}.${randomBytes(32).toString('base64url')}`;
}

export function newAdminToken(): string {
  return `va1.${randomBytes(32).toString('base64url')}`;
}

/** The computer id a token claims, or null when it is not a computer token. */
export function tokenComputerId(token: string): string | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || !parts[1] || !parts[2]) return null;
  try {
    const id = Buffer.from(parts[1], 'base64url').toString('utf8');
    return id.length > 0 && id.length <= 128 ? id : null;
  } catch {
    return null;
  }
}

/** Constant-time comparison of two SHA-256 hex digests. */
export function sameHash(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}

/** Constant-time string equality (compares fixed-length digests, so lengths do not leak). */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

export function tokenMatches(token: string, storedHash: string | null | undefined): boolean {
  return !!storedHash && sameHash(sha256Hex(token), storedHash);
}

/** The bearer token of an Authorization header, or null. */
export function bearer(header: string | undefined | null): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}
