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

/** The secret part of a computer token: 32 bytes, base64url without padding. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const ID_PART_PATTERN = /^[A-Za-z0-9_-]{1,172}$/;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/**
 * Whether a bearer token is in the computer-token form (`vc1.`): such a token is only ever
 * checked against its computer, never against the admin token (so computer calls never need
 * the admin token's secret store), whether it is well formed or not.
 */
export function isComputerTokenForm(token: string): boolean {
  return token.startsWith(`${PREFIX}.`);
}

/** The computer id a well-formed computer token claims, or null (not a computer token, or malformed: refused without any read). */
export function tokenComputerId(token: string): string | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || !ID_PART_PATTERN.test(parts[1] ?? '') || !SECRET_PATTERN.test(parts[2] ?? '')) return null;
  const id = Buffer.from(parts[1] ?? '', 'base64url').toString('utf8');
  return ID_PATTERN.test(id) ? id : null;
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
