// The master's HTTP API (SPEC §3): one Hono app, served by Lambda in AWS and by
// @hono/node-server locally. Data flows app → domain → store; colours are computed at
// request time with the master's clock (deps.now).
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import {
  BangList,
  BangRequest,
  BangResponse,
  BODY_LIMIT_BYTES,
  Computer,
  ComputerList,
  ComputerPut,
  ComputerToken,
  ErrorBody,
  Health,
  HeartbeatRequest,
  HeartbeatResponse,
  Id,
  InstanceTree,
  MESSAGE_MAX,
  Partition,
  PartitionList,
  PartitionPromises,
  PartitionPut,
  type PromiseHistory,
  ReportRequest,
  ReportResponse,
  SoftwareRelease,
  SoftwareReleaseList,
  SoftwareReleasePut,
} from '../protocol/index.ts';
import { bearer, constantTimeEqual, newComputerToken, sha256Hex, tokenComputerId, tokenMatches } from './auth.ts';
import { DEFAULT_INSTANTIATION_FREQUENCY_SECONDS, worstColour } from './domain/colours.ts';
import { emptyCrimeState, foldReport } from './domain/crimes.ts';
import { normalizeReport } from './domain/report-input.ts';
import { DEFAULT_BANG_QUOTA_PER_DAY, nextUtcDay, quotaDay, retryAfterSeconds } from './domain/quota.ts';
import { createDashboard } from './dashboard/index.tsx';
import { createSessions } from './dashboard/sessions.ts';
import { AuthGuard, type ClientAddress, FailureLimiter } from './limiter.ts';
import { fanOutBang } from './fanout.ts';
import { type BangQueue, bangReason } from './queue.ts';
import { isStoreUnavailable, STORE_RETRY_AFTER_SECONDS } from './store/errors.ts';
import type { ComputerRecord, HistoryRecord, PartitionRecord, Store } from './store/types.ts';
import {
  colourBefore,
  computerVerdict,
  heartbeatSweepKey,
  nextColourFields,
  partitionVerdict,
  pendingReprocess,
  toBang,
  toComputer,
  toPartition,
} from './views.ts';

export interface AppDeps {
  store: Store;
  queue: BangQueue;
  /** The master's clock. */
  now: () => Date;
  /** The admin token (may be fetched from a secret store; cache it there). */
  adminToken: () => string | Promise<string>;
  /** How long promise history is kept (TTL), default 7 days. */
  historyTtlSeconds?: number;
  /** Where unexpected errors go (default: console.error). */
  logError?: (message: string, err: unknown) => void;
  /** Mount the dashboard at / (default true). */
  dashboard?: boolean;
  /** The client address of a request, for the failure limiter (default: none, no limit). */
  clientAddress?: ClientAddress;
  /** Failure limiter (default: a new one with the limits of functions/limiter.ts). */
  limiter?: FailureLimiter;
}

/** An error answered as JSON `{error, message, details?}`. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

type Vars = {
  computer: ComputerRecord;
  partitions: PartitionRecord[];
  partition: PartitionRecord;
  actor: 'admin' | 'computer';
};
type Env = { Variables: Vars };

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const err = (description: string) => json(ErrorBody, description);
const body = <T extends z.ZodType>(schema: T, required = true) => ({ content: { 'application/json': { schema } }, required });
const security = [{ bearer: [] as string[] }];
const authErrors = { 401: err('missing or invalid token'), 403: err('token not allowed here'), 413: err('body over 256 KiB') };
/** Admin routes: failed admin-token attempts are limited (functions/limiter.ts). */
const adminErrors = {
  ...authErrors,
  429: err('too many failed admin-token attempts from this client address (or from all clients): retry after Retry-After seconds'),
};

function issuesMessage(target: string, error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const where = [target === 'json' ? 'body' : target, ...i.path.map(String)].join('.');
      return `${where}: ${i.message}`;
    })
    .join('; ');
}

/** A number DynamoDB can store: rounded to the microsecond (no underflow), at least `min`. */
function storable(x: number, min = 0): number {
  return Math.max(min, Math.round(x * 1000) / 1000);
}

function tail(s: string, max = MESSAGE_MAX): string {
  return s.length > max ? s.slice(s.length - max) : s;
}

export function createApp(deps: AppDeps) {
  const { store } = deps;
  const historyTtl = deps.historyTtlSeconds ?? 7 * 86400;
  const logError = deps.logError ?? ((m, e) => console.error(m, e));

  const app = new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const target = (result as { target?: string }).target ?? 'input';
        const error = result.error as z.ZodError;
        return c.json(
          { error: 'bad_request', message: issuesMessage(target, error), details: error.issues.map((i) => ({ path: [target === 'json' ? 'body' : target, ...i.path.map(String)].join('.'), message: i.message })) },
          400,
        );
      }
      return undefined;
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  app.onError((e, c) => {
    if (e instanceof ApiError) {
      for (const [k, v] of Object.entries(e.headers ?? {})) c.header(k, v);
      return c.json({ error: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) }, e.status);
    }
    if (e instanceof HTTPException) {
      const status = e.status as ContentfulStatusCode;
      const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 400 ? 'bad_request' : 'http_error';
      const message = status === 400 && /json/i.test(e.message) ? `body: malformed JSON (${e.message})` : e.message || `HTTP ${status}`;
      return c.json({ error: code, message }, status);
    }
    if (isStoreUnavailable(e)) {
      // the store's trouble, not the request's (a full disk under the local master, DynamoDB throttling)
      logError(`vigil: ${c.req.method} ${c.req.path}: store unavailable`, `${e.name}: ${e.message}`);
      c.header('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
      return c.json({ error: 'unavailable', message: `the master cannot use its store now, retry later: ${e.message}` }, 503);
    }
    logError(`vigil: ${c.req.method} ${c.req.path} failed`, e);
    return c.json({ error: 'internal', message: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404));

  app.use(
    '*',
    bodyLimit({
      maxSize: BODY_LIMIT_BYTES,
      onError: (c) => c.json({ error: 'payload_too_large', message: `body over ${BODY_LIMIT_BYTES / 1024} KiB` }, 413),
    }),
  );

  // Bodies of the API are JSON whatever the client declares: `curl -d` sends
  // application/x-www-form-urlencoded and fetch() with a string body text/plain. A body that
  // is not JSON then gets a 400 naming it, never a 415 (SPEC §3 error codes).
  // An empty body is read as `{}`: `curl -X PUT …/computers/ID` registers with the defaults,
  // and a required field is then named in the 400 rather than "malformed JSON".
  app.use('/v1/*', async (c, next) => {
    const m = c.req.method;
    if (m === 'POST' || m === 'PUT' || m === 'PATCH') {
      if (!/json/i.test(c.req.header('content-type') ?? '')) c.req.raw.headers.set('content-type', 'application/json');
      // (Hono caches the body text as a promise under bodyCache.text; the json validator reads it.)
      if ((await c.req.text()).trim() === '') (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve('{}');
    }
    await next();
  });

  // ------------------------------------------------------------------ auth
  // Failed admin-token attempts (a bearer that is neither the admin token nor shaped like a
  // computer token) are counted per client address (functions/limiter.ts): past the limit
  // the admin token is not compared for that client, and admin routes answer 429. Computer
  // tokens are always verified and their failures stay plain 401s, never counted: a
  // computer with a stale token must not lock out an admin behind the same address. The
  // computer routes answer 401 even when limited: an agent reads a 429 on a bang as "daily
  // quota used" (and drops the bang), and a 401 tells it to fix its token file.
  const guard = new AuthGuard(deps.limiter ?? new FailureLimiter(), deps.clientAddress ?? (() => null));
  const invalidToken = () => new ApiError(401, 'unauthorized', 'invalid token');

  function failedAdminGuess(c: Context, adminRoute: boolean): ApiError {
    const retry = guard.fail(c);
    if (!retry || !adminRoute) return invalidToken();
    return new ApiError(
      429,
      'too_many_failures',
      `too many failed authentications from this client; retry after ${retry} s`,
      { retryAfterSeconds: retry },
      { 'Retry-After': String(retry) },
    );
  }

  async function isAdminToken(c: Context, token: string): Promise<boolean> {
    if (guard.guessesBlocked(c)) return false;
    const admin = await deps.adminToken();
    return !!admin && constantTimeEqual(token, admin);
  }

  function requireToken(c: Context): string {
    const token = bearer(c.req.header('authorization'));
    if (!token) throw new ApiError(401, 'unauthorized', 'missing bearer token (Authorization: Bearer <token>)');
    return token;
  }

  function paramId(c: Context, name: string): string {
    const v = c.req.param(name) ?? '';
    const r = Id.safeParse(v);
    if (!r.success) throw new ApiError(400, 'bad_request', `param.${name}: ${r.error.issues[0]?.message ?? 'invalid'}`);
    return v;
  }

  /** Verifies a computer token against its computer (one GetItem, error paths only). */
  async function isValidComputerToken(token: string): Promise<boolean> {
    const cid = tokenComputerId(token);
    if (!cid) return false;
    const comp = await store.getComputer(cid);
    return !!comp && tokenMatches(token, comp.tokenHash);
  }

  const requireAdmin: MiddlewareHandler<Env> = async (c, next) => {
    const token = requireToken(c);
    if (await isAdminToken(c, token)) return next();
    if (await isValidComputerToken(token)) throw new ApiError(403, 'forbidden', 'this route needs the admin token; a computer token is not enough');
    throw tokenComputerId(token) ? invalidToken() : failedAdminGuess(c, true);
  };

  /** Heartbeat: ONE Query authenticates the computer and loads its partitions. */
  const heartbeatAuth: MiddlewareHandler<Env> = async (c, next) => {
    const token = requireToken(c);
    const pathId = paramId(c, 'computerId');
    if (await isAdminToken(c, token)) throw new ApiError(403, 'forbidden', 'a heartbeat needs the computer token, not the admin token');
    const cid = tokenComputerId(token);
    if (!cid) throw failedAdminGuess(c, false);
    if (cid !== pathId) {
      if (await isValidComputerToken(token)) throw new ApiError(403, 'forbidden', `this token belongs to another computer, not ${pathId}`);
      throw invalidToken();
    }
    const loaded = await store.getComputerWithPartitions(cid);
    if (!loaded || !tokenMatches(token, loaded.computer.tokenHash)) throw invalidToken();
    c.set('computer', loaded.computer);
    c.set('partitions', loaded.partitions);
    c.set('actor', 'computer');
    return next();
  };

  /** Report / bang: ONE BatchGetItem authenticates the computer and loads the partition. */
  const partitionAuth =
    (allowAdmin: boolean): MiddlewareHandler<Env> =>
    async (c, next) => {
      const token = requireToken(c);
      const pid = paramId(c, 'partitionId');
      if (await isAdminToken(c, token)) {
        if (!allowAdmin) throw new ApiError(403, 'forbidden', 'reports need the computer token, not the admin token');
        const p = await store.getPartition(pid);
        if (!p) throw new ApiError(404, 'not_found', `partition ${pid} not found`);
        c.set('partition', p);
        c.set('actor', 'admin');
        return next();
      }
      const cid = tokenComputerId(token);
      if (!cid) throw failedAdminGuess(c, false);
      const { computer, partition } = await store.getComputerAndPartition(cid, pid);
      if (!computer || !tokenMatches(token, computer.tokenHash)) throw invalidToken();
      if (!partition) throw new ApiError(403, 'forbidden', `partition ${pid} is not a partition of computer ${cid}`);
      c.set('computer', computer);
      c.set('partition', partition);
      c.set('actor', 'computer');
      return next();
    };

  // ------------------------------------------------------------------ public
  app.openapi(
    createRoute({ method: 'get', path: '/healthz', responses: { 200: json(Health, 'alive') } }),
    (c) => c.json({ status: 'ok' as const, time: deps.now().toISOString() }, 200),
  );

  // ------------------------------------------------------------------ software releases
  const SrParams = z.object({ srId: Id });
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/software-releases/{srId}',
      security,
      middleware: [requireAdmin] as const,
      request: { params: SrParams, body: body(SoftwareReleasePut) },
      responses: { 200: json(SoftwareRelease, 'updated'), 201: json(SoftwareRelease, 'created'), 400: err('bad input'), ...adminErrors },
    }),
    async (c) => {
      const { srId } = c.req.valid('param');
      const b = c.req.valid('json');
      const r = await store.putSoftwareRelease(
        { softwareReleaseId: srId, url: b.url, periodicitySeconds: b.periodicitySeconds ?? null, bangQuotaPerDay: b.bangQuotaPerDay ?? DEFAULT_BANG_QUOTA_PER_DAY },
        deps.now().toISOString(),
      );
      return r.created ? c.json(r.record, 201) : c.json(r.record, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/software-releases',
      security,
      middleware: [requireAdmin] as const,
      responses: { 200: json(SoftwareReleaseList, 'all software releases'), ...adminErrors },
    }),
    async (c) => c.json({ softwareReleases: await store.listSoftwareReleases() }, 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/software-releases/{srId}',
      security,
      middleware: [requireAdmin] as const,
      request: { params: SrParams },
      responses: { 200: json(SoftwareRelease, 'the software release'), 404: err('unknown'), ...adminErrors },
    }),
    async (c) => {
      const { srId } = c.req.valid('param');
      const sr = await store.getSoftwareRelease(srId);
      if (!sr) throw new ApiError(404, 'not_found', `software release ${srId} not found`);
      return c.json(sr, 200);
    },
  );

  // ------------------------------------------------------------------ computers
  const ComputerParams = z.object({ computerId: Id });
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/computers/{computerId}',
      security,
      middleware: [requireAdmin] as const,
      request: { params: ComputerParams, body: body(ComputerPut, false) },
      responses: {
        201: json(ComputerToken, 'registered: the token is shown only now'),
        200: json(Computer, 'updated'),
        400: err('bad input'),
        ...adminErrors,
      },
    }),
    async (c) => {
      const { computerId } = c.req.valid('param');
      const b = c.req.valid('json') ?? {};
      const now = deps.now().toISOString();
      const token = newComputerToken(computerId);
      const created = await store.createComputer(
        { computerId, tokenHash: sha256Hex(token), instantiationFrequencySeconds: b.instantiationFrequencySeconds ?? DEFAULT_INSTANTIATION_FREQUENCY_SECONDS },
        now,
      );
      if (created) return c.json({ computerId, token }, 201);
      const patch = b.instantiationFrequencySeconds === undefined ? {} : { instantiationFrequencySeconds: b.instantiationFrequencySeconds };
      const rec = await store.updateComputer(computerId, patch, now);
      if (!rec) throw new ApiError(409, 'conflict', `computer ${computerId} changed concurrently, retry`);
      return c.json(toComputer(rec, deps.now()), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/computers/{computerId}/token',
      security,
      middleware: [requireAdmin] as const,
      request: { params: ComputerParams },
      responses: { 200: json(ComputerToken, 'the new token (the old one stops working)'), 404: err('unknown computer'), ...adminErrors },
    }),
    async (c) => {
      const { computerId } = c.req.valid('param');
      const token = newComputerToken(computerId);
      if (!(await store.setComputerToken(computerId, sha256Hex(token), deps.now().toISOString()))) {
        throw new ApiError(404, 'not_found', `computer ${computerId} not found`);
      }
      return c.json({ computerId, token }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/computers',
      security,
      middleware: [requireAdmin] as const,
      responses: { 200: json(ComputerList, 'all computers'), ...adminErrors },
    }),
    async (c) => {
      const now = deps.now();
      const list = await store.listComputers();
      return c.json({ computers: list.map((x) => toComputer(x, now)) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/computers/{computerId}',
      security,
      middleware: [requireAdmin] as const,
      request: { params: ComputerParams },
      responses: { 200: json(Computer, 'the computer'), 404: err('unknown'), ...adminErrors },
    }),
    async (c) => {
      const { computerId } = c.req.valid('param');
      const rec = await store.getComputer(computerId);
      if (!rec) throw new ApiError(404, 'not_found', `computer ${computerId} not found`);
      return c.json(toComputer(rec, deps.now()), 200);
    },
  );

  // ------------------------------------------------------------------ heartbeat
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/computers/{computerId}/heartbeat',
      security,
      middleware: [heartbeatAuth] as const,
      request: { params: ComputerParams, body: body(HeartbeatRequest) },
      responses: { 200: json(HeartbeatResponse, 'reprocess flags and the partitions of this computer'), 400: err('bad input'), ...authErrors },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const computer = c.get('computer');
      const partitions = c.get('partitions');
      const now = deps.now();
      const nowIso = now.toISOString();
      const v = computerVerdict({ lastContactAt: nowIso }, now);
      // Its colour right before this contact (orange or red after a silence, even if the
      // sweep has not recorded it): a change restarts colourSince.
      const before = colourBefore(computer, computerVerdict(computer, now));
      const changed = before.colour !== v.colour || !before.colourSince;
      await store.recordHeartbeat(computer.computerId, {
        at: nowIso,
        agentVersion: b.agentVersion,
        colour: changed ? { colour: v.colour, colourReason: 'in contact with the master', colourSince: nowIso } : null,
        sweepAt: heartbeatSweepKey(computer.sweepAt, changed, now, v.nextChangeAt),
      });
      const reprocess = partitions.map(pendingReprocess).filter((x): x is NonNullable<typeof x> => x !== null);
      return c.json(
        {
          serverTime: nowIso,
          instantiationFrequencySeconds: computer.instantiationFrequencySeconds,
          reprocess,
          partitions: partitions.map((p) => ({
            partitionId: p.partitionId,
            instanceTreeId: p.instanceTreeId,
            softwareReleaseId: p.softwareReleaseId,
            periodicitySeconds: p.periodicitySeconds,
          })),
        },
        200,
      );
    },
  );

  // ------------------------------------------------------------------ partitions
  const PartitionParams = z.object({ partitionId: Id });
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/partitions/{partitionId}',
      security,
      middleware: [requireAdmin] as const,
      request: {
        params: PartitionParams,
        query: z.object({
          move: z.enum(['true', 'false', '1', '0']).optional().describe('true: allow moving the partition to another computer'),
        }),
        body: body(PartitionPut),
      },
      responses: {
        200: json(Partition, 'updated'),
        201: json(Partition, 'created'),
        400: err('bad input'),
        404: err('unknown computer or software release'),
        409: err('the partition is on another computer (add ?move=true to move it)'),
        ...adminErrors,
      },
    }),
    async (c) => {
      const { partitionId } = c.req.valid('param');
      const { move } = c.req.valid('query');
      const b = c.req.valid('json');
      if (move !== 'true' && move !== '1') {
        // A partition is a directory on one computer: silently re-homing it would leave the
        // old computer's agent with an orphan. Moving is explicit.
        const existing = await store.getPartition(partitionId);
        if (existing && existing.computerId !== b.computerId) {
          throw new ApiError(
            409,
            'conflict',
            `partition ${partitionId} is on computer ${existing.computerId}, not ${b.computerId} (body.computerId); PUT with ?move=true to move it`,
            { computerId: existing.computerId },
          );
        }
      }
      const r = await store.putPartition({ partitionId, ...b }, deps.now().toISOString());
      if ('missing' in r) {
        const what = r.missing === 'computer' ? `computer ${b.computerId}` : `software release ${b.softwareReleaseId}`;
        throw new ApiError(404, 'not_found', `${what} not found (body.${r.missing === 'computer' ? 'computerId' : 'softwareReleaseId'})`);
      }
      const view = toPartition(r.record, deps.now());
      return r.created ? c.json(view, 201) : c.json(view, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/partitions',
      security,
      middleware: [requireAdmin] as const,
      request: { query: z.object({ instanceTreeId: Id.optional(), computerId: Id.optional() }) },
      responses: { 200: json(PartitionList, 'partitions'), 400: err('bad input'), ...adminErrors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const now = deps.now();
      const list = await store.listPartitions({ ...(q.instanceTreeId ? { instanceTreeId: q.instanceTreeId } : {}), ...(q.computerId ? { computerId: q.computerId } : {}) });
      list.sort((a, b) => (a.partitionId < b.partitionId ? -1 : a.partitionId > b.partitionId ? 1 : 0));
      return c.json({ partitions: list.map((p) => toPartition(p, now)) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/partitions/{partitionId}',
      security,
      middleware: [requireAdmin] as const,
      request: { params: PartitionParams },
      responses: { 200: json(Partition, 'the partition'), 404: err('unknown'), ...adminErrors },
    }),
    async (c) => {
      const { partitionId } = c.req.valid('param');
      const p = await store.getPartition(partitionId);
      if (!p) throw new ApiError(404, 'not_found', `partition ${partitionId} not found`);
      return c.json(toPartition(p, deps.now()), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/partitions/{partitionId}/promises',
      security,
      middleware: [requireAdmin] as const,
      request: { params: PartitionParams },
      responses: { 200: json(PartitionPromises, 'latest result and history per promise'), 404: err('unknown'), ...adminErrors },
    }),
    async (c) => {
      const { partitionId } = c.req.valid('param');
      const p = await store.getPartition(partitionId);
      if (!p) throw new ApiError(404, 'not_found', `partition ${partitionId} not found`);
      const { results, reports } = await store.listHistory(partitionId, Math.floor(deps.now().getTime() / 1000));
      const byName = new Map<string, HistoryRecord[]>();
      for (const r of results) {
        const list = byName.get(r.name) ?? [];
        list.push(r);
        byName.set(r.name, list);
      }
      const strip = ({ partitionId: _p, expiresAt: _e, ...rest }: HistoryRecord) => rest;
      const promises: PromiseHistory[] = [];
      for (const [name, list] of [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        list.sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : a.receivedAt < b.receivedAt ? 1 : -1));
        const latest = list[0];
        if (!latest) continue;
        promises.push({ name, title: latest.title, latest: strip(latest), history: list.slice(0, 50).map(strip) });
      }
      reports.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
      return c.json(
        { partitionId, promises, reports: reports.slice(0, 50).map(({ partitionId: _p, expiresAt: _e, ...r }) => r) },
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/instance-trees/{treeId}',
      security,
      middleware: [requireAdmin] as const,
      request: { params: z.object({ treeId: Id }) },
      responses: { 200: json(InstanceTree, 'the partitions of the tree'), 404: err('unknown'), ...adminErrors },
    }),
    async (c) => {
      const { treeId } = c.req.valid('param');
      const now = deps.now();
      const list = await store.listPartitions({ instanceTreeId: treeId });
      if (list.length === 0) throw new ApiError(404, 'not_found', `instance tree ${treeId} not found (no partition)`);
      list.sort((a, b) => (a.partitionId < b.partitionId ? -1 : 1));
      const partitions = list.map((p) => toPartition(p, now));
      const colour = worstColour(partitions.map((p) => p.colour));
      const bad = partitions.filter((p) => p.colour !== 'green');
      const first = bad[0];
      const colourReason = first
        ? `${bad.length} of ${partitions.length} partitions ${colour}; ${first.partitionId}: ${first.colourReason}`
        : `all ${partitions.length} partitions green`;
      return c.json({ instanceTreeId: treeId, colour, colourReason, partitions }, 200);
    },
  );

  // ------------------------------------------------------------------ reports
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/partitions/{partitionId}/reports',
      security,
      middleware: [partitionAuth(false)] as const,
      request: { params: PartitionParams, body: body(ReportRequest) },
      responses: { 202: json(ReportResponse, 'recorded (or already recorded)'), 400: err('bad input'), ...authErrors },
    }),
    async (c) => {
      const now = deps.now();
      // Far-future dates clamped, one entry per promise name (domain/report-input.ts).
      const { report: input, warnings } = normalizeReport(c.req.valid('json'), now);
      const answer = (status: 'accepted' | 'duplicate' | 'stale') =>
        c.json({ reportId: input.reportId, status, ...(warnings.length ? { warnings } : {}) }, 202);
      // Numbers as DynamoDB can store them (a denormal like 1e-200 would underflow).
      const r = {
        ...input,
        durationMs: storable(input.durationMs),
        promises: input.promises.map((x) => ({
          ...x,
          executionTimeMs: storable(x.executionTimeMs),
          ...(x.periodicityMinutes === undefined ? {} : { periodicityMinutes: storable(x.periodicityMinutes, 0.001) }),
        })),
      };
      const p = c.get('partition');
      const nowIso = now.toISOString();
      const startedAt = r.startedAt;
      const key = `${startedAt}#${r.reportId}`;
      // (by id too: a clamped startedAt differs when the same report is posted again)
      if (p.lastReportKey === key || p.lastReport?.reportId === r.reportId) return answer('duplicate');
      const expiresAt = Math.floor(now.getTime() / 1000) + historyTtl;
      const failed = r.promises.filter((x) => x.failed).map((x) => ({ name: x.name, message: tail(x.message, 500) }));
      const summary = {
        reportId: r.reportId,
        kind: r.kind,
        startedAt,
        durationMs: r.durationMs,
        ok: r.ok && failed.length === 0,
        error: r.error === undefined ? null : tail(r.error, 2000),
        receivedAt: nowIso,
        promiseCount: r.promises.length,
        failed: failed.slice(0, 10),
      };
      // History first: if anything below fails, the agent's retry (same reportId) completes it.
      await store.putHistory(
        { ...summary, partitionId: p.partitionId, expiresAt },
        r.promises.map((x) => ({
          partitionId: p.partitionId,
          name: x.name,
          title: x.title,
          kind: x.kind,
          failed: x.failed,
          message: tail(x.message),
          date: x.date,
          executionTimeMs: x.executionTimeMs,
          ...(x.periodicityMinutes === undefined ? {} : { periodicityMinutes: x.periodicityMinutes }),
          reportId: r.reportId,
          receivedAt: nowIso,
          expiresAt,
        })),
      );
      // Never later than the master's now: a far-future value would block every later flag.
      const upToRaw = r.reprocessedUpTo ? new Date(r.reprocessedUpTo).toISOString() : null;
      const upTo = upToRaw !== null && upToRaw > nowIso ? nowIso : upToRaw;
      const raisesUpTo = upTo !== null && (!p.reprocessedUpTo || upTo > p.reprocessedUpTo);
      const newer = !p.lastReportKey || key > p.lastReportKey;
      let status: 'accepted' | 'stale' = 'stale';
      if (newer) {
        const crimeState = foldReport(p.crimeState ?? emptyCrimeState(), r);
        const v = partitionVerdict({ ...p, lastReport: summary }, now);
        const ok = await store.writeReport(p.computerId, p.partitionId, {
          lastReport: summary,
          lastReportKey: key,
          crimeState,
          colour: nextColourFields(colourBefore(p, partitionVerdict(p, now)), v, now),
          reprocessedUpTo: raisesUpTo ? upTo : null,
          now: nowIso,
        });
        if (ok) status = 'accepted';
      }
      if (status === 'stale' && raisesUpTo && upTo) await store.raiseReprocessedUpTo(p.computerId, p.partitionId, upTo);
      return answer(status);
    },
  );

  // ------------------------------------------------------------------ bangs
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/partitions/{partitionId}/bang',
      security,
      middleware: [partitionAuth(true)] as const,
      request: { params: PartitionParams, body: body(BangRequest) },
      responses: {
        ...authErrors,
        202: json(BangResponse, 'accepted: the instance tree will be reprocessed'),
        400: err('bad input'),
        404: err('unknown partition (admin)'),
        429: err('over the daily bang quota of the software release; see Retry-After'),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const p = c.get('partition');
      const now = deps.now();
      const nowIso = now.toISOString();
      const existing = await store.getBang(p.partitionId, b.bangId);
      if (existing) return c.json({ bangId: b.bangId, fannedOutTo: existing.fannedOutTo }, 202);
      const day = quotaDay(now);
      const base = {
        bangId: b.bangId,
        partitionId: p.partitionId,
        computerId: p.computerId,
        instanceTreeId: p.instanceTreeId,
        message: tail(b.message),
        source: b.source,
        createdAt: nowIso,
        fanOutCompletedAt: null,
      };
      const quotaExpires = Math.floor(nextUtcDay(now).getTime() / 1000) + 86400;
      if (!(await store.consumeBangQuota(p.partitionId, day, p.bangQuotaPerDay, quotaExpires))) {
        await store.recordRejectedBang({ ...base, fannedOutTo: 0, fanOut: 'rejected', accepted: false });
        const retry = retryAfterSeconds(now);
        throw new ApiError(
          429,
          'too_many_bangs',
          `partition ${p.partitionId} used its ${p.bangQuotaPerDay} bangs of ${day} (software release ${p.softwareReleaseId}); retry after ${nextUtcDay(now).toISOString()}`,
          { quotaPerDay: p.bangQuotaPerDay, day, retryAfterSeconds: retry },
          { 'Retry-After': String(retry) },
        );
      }
      const fannedOutTo = await store.countTreePartitions(p.instanceTreeId);
      const created = await store.createBang({ ...base, fannedOutTo, fanOut: 'pending', accepted: true });
      if (!created) {
        await store.refundBangQuota(p.partitionId, day);
        const again = await store.getBang(p.partitionId, b.bangId);
        return c.json({ bangId: b.bangId, fannedOutTo: again?.fannedOutTo ?? fannedOutTo }, 202);
      }
      await store.markBanged(p.computerId, p.partitionId, nowIso);
      const message = {
        bangId: b.bangId,
        partitionId: p.partitionId,
        computerId: p.computerId,
        instanceTreeId: p.instanceTreeId,
        requestedAt: nowIso,
        reason: bangReason({ partitionId: p.partitionId, source: b.source, message: b.message }),
      };
      try {
        await deps.queue.send(message);
      } catch (e) {
        // The queue is down: fan out inline rather than lose the bang.
        logError('vigil: bang queue send failed, fanning out inline', e);
        await fanOutBang({ store, now: deps.now }, message);
      }
      return c.json({ bangId: b.bangId, fannedOutTo }, 202);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/bangs',
      security,
      middleware: [requireAdmin] as const,
      request: { query: z.object({ partitionId: Id.optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }) },
      responses: { 200: json(BangList, 'bangs, newest first'), 400: err('bad input'), ...adminErrors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const list = await store.listBangs(q.partitionId ? { partitionId: q.partitionId } : {}, q.limit ?? 200);
      return c.json({ bangs: list.map(toBang) }, 200);
    },
  );

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/openapi.json',
    responses: { 200: { description: 'this OpenAPI 3 document', content: { 'application/json': { schema: z.object({}).passthrough() } } } },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/',
    responses: {
      200: { description: 'the dashboard (HTML), or its login form (admin token) without a session', content: { 'text/html': { schema: z.string() } } },
    },
  });
  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: { title: 'vigil master API', version: '0.1.0', description: 'Promise-based monitoring master (SPEC §3).' },
  });

  if (deps.dashboard !== false) {
    app.route(
      '/',
      createDashboard({
        adminToken: deps.adminToken,
        now: deps.now,
        api: (path, init) => app.request(path, init),
        sessions: createSessions({ store, now: deps.now }),
        guard,
      }),
    );
  }

  return app;
}

export type VigilApp = ReturnType<typeof createApp>;
