// Authentication of the API, before validation (an unauthenticated request is 401/403 even
// with a malformed body). The token's FORM decides first (functions/auth.ts): a `vc1.` token is
// only ever checked against its computer (never against the admin token, so computer calls
// never need the admin token's secret store); a malformed one is refused with no read. A
// computer token is checked against the hash this process knows for its computer
// (functions/token-cache.ts): a known hash costs no read (the heartbeat's conditional write is
// the check), a different one is refused with no read for a few seconds, an unknown one is
// looked up once.
//  - requireAdmin: the admin token (a valid computer token is 403, anything else 401);
//  - heartbeatAuth: the computer's own token (the heartbeat service's write checks it again);
//  - partitionAuth: the token of the partition's computer (then its partition read), or the
//    admin token where allowed (a manual bang).
import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { Id } from '../../protocol/index.ts';
import { bearer, constantTimeEqual, isComputerTokenForm, sha256Hex, tokenComputerId } from '../auth.ts';
import { STORE_RETRY_AFTER_SECONDS } from '../store/errors.ts';
import { adminErrors, type ApiEnv, ApiError, authErrors, security } from './context.ts';

const unauthorized = (message = 'invalid token') => new ApiError(401, 'unauthorized', message);
const forbidden = (message: string) => new ApiError(403, 'forbidden', message);

// Failed admin-token attempts (a bearer that is neither the admin token nor shaped like a
// computer token) are counted per client address (functions/limiter.ts): past the limit
// the admin token is not compared for that client, and admin routes answer 429. Computer
// tokens are always verified and their failures stay plain 401s, never counted: a
// computer with a stale token must not lock out an admin behind the same address. The
// computer routes answer 401 even when limited: an agent reads a 429 on a bang as "daily
// quota used" (and drops the bang), and a 401 tells it to fix its token file.
function failedAdminGuess(c: Context<ApiEnv>, adminRoute: boolean): ApiError {
  const retry = c.var.guard.fail(c);
  if (!retry || !adminRoute) return unauthorized();
  return new ApiError(
    429,
    'too_many_failures',
    `too many failed authentications from this client; retry after ${retry} s`,
    { retryAfterSeconds: retry },
    { 'Retry-After': String(retry) },
  );
}

/** The admin token compared (never for a computer-form token); its secret store unreachable: 503. */
async function isAdminToken(c: Context<ApiEnv>, token: string): Promise<boolean> {
  if (isComputerTokenForm(token) || c.var.guard.guessesBlocked(c)) return false;
  let admin: string;
  try {
    admin = await c.var.deps.adminToken();
  } catch (err) {
    c.var.deps.logError?.('vigil: the admin token cannot be read', err);
    throw new ApiError(503, 'unavailable', 'the admin token cannot be read now (its secret store is unreachable); retry later', undefined, {
      'Retry-After': String(STORE_RETRY_AFTER_SECONDS),
    });
  }
  return !!admin && constantTimeEqual(token, admin);
}

/** A computer token as checked: its computer and hash, or null (malformed, unknown or wrong: 401). */
async function verifyComputerToken(c: Context<ApiEnv>, token: string): Promise<{ computerId: string; tokenHash: string } | null> {
  const computerId = tokenComputerId(token);
  if (!computerId) return null;
  const tokenHash = sha256Hex(token);
  const nowMs = c.var.deps.now().getTime();
  let check = c.var.tokens.check(computerId, tokenHash, nowMs);
  if (check === 'unknown') {
    // one read (eventually consistent: a heartbeat's own write checks the hash again; shared by
    // concurrent requests for the id), then known for a while
    await c.var.tokens.lookUp(computerId, nowMs, async () => (await c.var.deps.store.getComputer(computerId, false))?.tokenHash ?? null);
    check = c.var.tokens.check(computerId, tokenHash, nowMs);
  }
  return check === 'valid' ? { computerId, tokenHash } : null;
}

function requireToken(c: Context): string {
  const token = bearer(c.req.header('authorization'));
  if (!token) throw unauthorized('missing bearer token (Authorization: Bearer <token>)');
  return token;
}

/** A path id, checked before the route's own validation (auth runs first). */
function paramId(c: Context, name: string): string {
  const v = c.req.param(name) ?? '';
  const r = Id.safeParse(v);
  if (!r.success) throw new ApiError(400, 'bad_request', `param.${name}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return v;
}

export const requireAdmin: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const token = requireToken(c);
  if (isComputerTokenForm(token)) {
    if (await verifyComputerToken(c, token)) throw forbidden('this route needs the admin token; a computer token is not enough');
    throw unauthorized();
  }
  if (await isAdminToken(c, token)) return next();
  throw failedAdminGuess(c, true);
};

export const heartbeatAuth: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const token = requireToken(c);
  const pathId = paramId(c, 'computerId');
  if (!isComputerTokenForm(token)) {
    if (await isAdminToken(c, token)) throw forbidden('a heartbeat needs the computer token, not the admin token');
    throw failedAdminGuess(c, false);
  }
  const auth = await verifyComputerToken(c, token);
  if (!auth) throw unauthorized();
  if (auth.computerId !== pathId) throw forbidden(`this token belongs to another computer, not ${pathId}`);
  c.set('auth', auth);
  c.set('actor', 'computer');
  return next();
};

export const partitionAuth =
  (allowAdmin: boolean): MiddlewareHandler<ApiEnv> =>
  async (c, next) => {
    const deps = c.var.deps;
    const token = requireToken(c);
    const pid = paramId(c, 'partitionId');
    if (!isComputerTokenForm(token)) {
      if (!(await isAdminToken(c, token))) throw failedAdminGuess(c, false);
      if (!allowAdmin) throw forbidden('reports need the computer token, not the admin token');
      const p = await deps.store.getPartition(pid);
      if (!p) throw new ApiError(404, 'not_found', `partition ${pid} not found`);
      c.set('partition', p);
      c.set('actor', 'admin');
      return next();
    }
    const auth = await verifyComputerToken(c, token);
    if (!auth) throw unauthorized();
    // its own partition (the computer is in the key): one eventually consistent read
    const partition = await deps.store.getComputerPartition(auth.computerId, pid);
    if (!partition) throw forbidden(`partition ${pid} is not a partition of computer ${auth.computerId}`);
    c.set('auth', auth);
    c.set('partition', partition);
    c.set('actor', 'computer');
    return next();
  };

type RouteSpec<P extends string> = Omit<RouteConfig, 'path' | 'security' | 'middleware'> & { path: P };

/**
 * A route behind `auth` (a middleware above): bearer security, the middleware before
 * validation, and the auth errors (401, 403, 413) among its documented answers.
 */
export function authRoute<P extends string, R extends RouteSpec<P>, M extends MiddlewareHandler<ApiEnv>>(auth: M, spec: R) {
  return createRoute({ ...spec, security, middleware: [auth] as const, responses: { ...authErrors, ...spec.responses } });
}

/** A route of the admin API (admin token; failed attempts limited: 429 documented). */
export function adminRoute<P extends string, R extends RouteSpec<P>>(spec: R) {
  return createRoute({ ...spec, security, middleware: [requireAdmin] as const, responses: { ...spec.responses, ...adminErrors } });
}
