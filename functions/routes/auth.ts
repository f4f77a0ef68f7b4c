// Authentication of the API, before validation (an unauthenticated request is 401/403 even
// with a malformed body), and the auth read doubles as the data read:
//  - requireAdmin: the admin token (a valid computer token is 403, anything else 401);
//  - heartbeatAuth: the computer's own token; ONE Query authenticates it and loads its partitions;
//  - partitionAuth: the token of the partition's computer (ONE BatchGetItem loads both), or
//    the admin token where allowed (a manual bang).
import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { Id } from '../../protocol/index.ts';
import { bearer, constantTimeEqual, tokenComputerId, tokenMatches } from '../auth.ts';
import { adminErrors, type ApiDeps, type ApiEnv, ApiError, authErrors, security } from './context.ts';

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

async function isAdminToken(c: Context<ApiEnv>, token: string): Promise<boolean> {
  if (c.var.guard.guessesBlocked(c)) return false;
  const admin = await c.var.deps.adminToken();
  return !!admin && constantTimeEqual(token, admin);
}

/** Verifies a computer token against its computer (one GetItem, error paths only). */
async function isValidComputerToken(deps: ApiDeps, token: string): Promise<boolean> {
  const cid = tokenComputerId(token);
  if (!cid) return false;
  const comp = await deps.store.getComputer(cid);
  return !!comp && tokenMatches(token, comp.tokenHash);
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
  const deps = c.var.deps;
  const token = requireToken(c);
  if (await isAdminToken(c, token)) return next();
  if (await isValidComputerToken(deps, token)) throw forbidden('this route needs the admin token; a computer token is not enough');
  throw tokenComputerId(token) ? unauthorized() : failedAdminGuess(c, true);
};

export const heartbeatAuth: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const deps = c.var.deps;
  const token = requireToken(c);
  const pathId = paramId(c, 'computerId');
  if (await isAdminToken(c, token)) throw forbidden('a heartbeat needs the computer token, not the admin token');
  const cid = tokenComputerId(token);
  if (!cid) throw failedAdminGuess(c, false);
  if (cid !== pathId) {
    if (await isValidComputerToken(deps, token)) throw forbidden(`this token belongs to another computer, not ${pathId}`);
    throw unauthorized();
  }
  const loaded = await deps.store.getComputerWithPartitions(cid);
  if (!loaded || !tokenMatches(token, loaded.computer.tokenHash)) throw unauthorized();
  c.set('computer', loaded.computer);
  c.set('partitions', loaded.partitions);
  c.set('actor', 'computer');
  return next();
};

export const partitionAuth =
  (allowAdmin: boolean): MiddlewareHandler<ApiEnv> =>
  async (c, next) => {
    const deps = c.var.deps;
    const token = requireToken(c);
    const pid = paramId(c, 'partitionId');
    if (await isAdminToken(c, token)) {
      if (!allowAdmin) throw forbidden('reports need the computer token, not the admin token');
      const p = await deps.store.getPartition(pid);
      if (!p) throw new ApiError(404, 'not_found', `partition ${pid} not found`);
      c.set('partition', p);
      c.set('actor', 'admin');
      return next();
    }
    const cid = tokenComputerId(token);
    if (!cid) throw failedAdminGuess(c, false);
    const { computer, partition } = await deps.store.getComputerAndPartition(cid, pid);
    if (!computer || !tokenMatches(token, computer.tokenHash)) throw unauthorized();
    if (!partition) throw forbidden(`partition ${pid} is not a partition of computer ${cid}`);
    c.set('computer', computer);
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
