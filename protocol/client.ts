// The typed client of the vigil HTTP API (SPEC §3): one method per endpoint, the answer
// validated with the protocol's own schema, every non-2xx answer thrown as one VigilApiError.
// Thin on purpose (fetch + zod, no AWS SDK, no Hono server code) so that any caller can use
// it: `vigil admin`, the dashboard (in process, `fetch: app.request`), tests, benches, and
// later the agent. `raw()` is the escape hatch for bad input and exact status codes.
import type { z } from 'zod';
import {
  BangList,
  type BangRequest,
  BangResponse,
  Computer,
  ComputerList,
  type ComputerPut,
  ComputerToken,
  ErrorBody,
  Health,
  type HeartbeatRequest,
  HeartbeatResponse,
  InstanceTree,
  Partition,
  PartitionDetail,
  PartitionList,
  PartitionPromises,
  type PartitionPut,
  type ReportRequest,
  ReportResponse,
  SoftwareRelease,
  SoftwareReleaseList,
  type SoftwareReleasePut,
  Summary,
  type BangListQuery,
  type ComputerListQuery,
  type PageQuery,
  type PartitionListQuery,
} from './index.ts';
import {
  Channel,
  ChannelCreated,
  ChannelDeleted,
  ChannelList,
  type ChannelPut,
  EventList,
  type EventListQuery,
  Silence,
  SilenceList,
  type SilenceListQuery,
  type SilencePut,
} from './events.ts';

/** `fetch`, or anything shaped like it (Hono's `app.request` in process). */
export type FetchLike = (input: string, init: RequestInit) => Response | Promise<Response>;

export interface VigilClientOptions {
  /** The master's URL, e.g. http://127.0.0.1:8787 ('' with an in-process `fetch`). */
  baseUrl?: string;
  fetch?: FetchLike;
  /** The bearer token (admin or computer), or a function giving the current one; null: none. */
  token?: string | null | (() => string);
  /** Per-request timeout (none by default). */
  timeoutMs?: number;
  /** Extra headers of every request (e.g. user-agent). */
  headers?: Record<string, string>;
}

/** Any answer that is not the expected one: an HTTP error, an unreachable master, or a body that is not what the protocol says. */
export class VigilApiError extends Error {
  override readonly name = 'VigilApiError';
  constructor(
    /** HTTP status; 0 when the master was not reached. */
    readonly status: number,
    /** The API's error code (`not_found`, `too_many_bangs`, …), `unreachable` or `bad_response`. */
    readonly code: string,
    message: string,
    readonly details: unknown,
    /** From a Retry-After header (429, 503). */
    readonly retryAfterSeconds: number | undefined,
    /** METHOD path of the request. */
    readonly request: string,
  ) {
    super(message);
  }
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (the text itself when it is not JSON, null when empty). */
  body: unknown;
}

export interface RawOptions {
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** Overrides the client's token (null: no Authorization header). */
  token?: string | null;
  headers?: Record<string, string>;
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - Date.now()) / 1000)) : undefined;
}

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const enc = encodeURIComponent;

function oneLine(text: string, max = 120): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

type Call = <S extends z.ZodType>(schema: S, method: string, path: string, body?: unknown) => Promise<{ status: number; body: z.infer<S> }>;
type Get = <S extends z.ZodType>(schema: S, path: string) => Promise<z.infer<S>>;

/** The notification endpoints (admin): channels, silences, recorded events. */
function notificationMethods(call: Call, get: Get) {
  return {
    /** 201 `{created: true}` (a generated webhook secret in `channel.secret`, shown only now); 200 on update. */
    async putChannel(id: string, body: ChannelPut): Promise<{ created: boolean; channel: ChannelCreated }> {
      const r = await call(ChannelCreated, 'PUT', `/v1/channels/${enc(id)}`, body);
      return { created: r.status === 201, channel: r.body };
    },
    getChannel: (id: string) => get(Channel, `/v1/channels/${enc(id)}`),
    listChannels: (q: PageQuery = {}) => get(ChannelList, `/v1/channels${query(q)}`),
    /** Deletes the channel and drops its queue. */
    deleteChannel: async (id: string) => (await call(ChannelDeleted, 'DELETE', `/v1/channels/${enc(id)}`)).body,
    async putSilence(id: string, body: SilencePut): Promise<{ created: boolean; silence: Silence }> {
      const r = await call(Silence, 'PUT', `/v1/silences/${enc(id)}`, body);
      return { created: r.status === 201, silence: r.body };
    },
    getSilence: (id: string) => get(Silence, `/v1/silences/${enc(id)}`),
    listSilences: (q: SilenceListQuery = {}) => get(SilenceList, `/v1/silences${query(q)}`),
    /** Ends the silence now (it stays listed). */
    endSilence: async (id: string) => (await call(Silence, 'DELETE', `/v1/silences/${enc(id)}`)).body,
    /** Recorded events, newest first, with their delivery state per channel. */
    listEvents: (q: EventListQuery = {}) => get(EventList, `/v1/events${query(q)}`),

  };
}

export function createVigilClient(opts: VigilClientOptions = {}) {
  const base = (opts.baseUrl ?? '').replace(/\/+$/, '');
  const doFetch: FetchLike = opts.fetch ?? ((input, init) => fetch(input, init));

  async function raw(method: string, path: string, o: RawOptions = {}): Promise<RawResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers, ...o.headers };
    const token = o.token !== undefined ? o.token : typeof opts.token === 'function' ? opts.token() : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (o.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      payload = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    }
    let res: Response;
    try {
      const init: RequestInit = { method, headers, ...(payload === undefined ? {} : { body: payload }) };
      if (opts.timeoutMs) init.signal = AbortSignal.timeout(opts.timeoutMs);
      res = await doFetch(`${base}${path}`, init);
    } catch (err) {
      const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
      const why = timedOut ? `no answer within ${opts.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
      throw new VigilApiError(0, timedOut ? 'timeout' : 'unreachable', `cannot reach the master${base ? ` at ${base}` : ''}: ${why}`, undefined, undefined, `${method} ${path}`);
    }
    let text: string;
    try {
      // (under the same deadline: a body that never ends is no answer)
      text = await res.text();
    } catch (err) {
      const e = err as { name?: string; message?: string };
      const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no complete answer within ${opts.timeoutMs} ms` : `the answer was cut: ${e.message ?? String(err)}`;
      throw new VigilApiError(res.status, 'incomplete', `${method} ${path}: ${res.status} but ${why}`, undefined, undefined, `${method} ${path}`);
    }
    return { status: res.status, headers: res.headers, text, body: parseBody(text) };
  }

  /** A 2xx answer's body checked against `schema`; anything else thrown as VigilApiError. */
  async function call<S extends z.ZodType>(schema: S, method: string, path: string, body?: unknown): Promise<{ status: number; body: z.infer<S> }> {
    const r = await raw(method, path, body === undefined ? {} : { body });
    const request = `${method} ${path}`;
    if (r.status < 200 || r.status >= 300) {
      const e = ErrorBody.safeParse(r.body);
      const message = e.success ? e.data.message : r.text.slice(0, 300) || `HTTP ${r.status}`;
      throw new VigilApiError(r.status, e.success ? e.data.error : 'http_error', message, e.success ? e.data.details : undefined, parseRetryAfter(r.headers.get('retry-after')), request);
    }
    // A 2xx counts only when it is the master's answer: a captive portal, a misrouted load
    // balancer or a cut body is not an acknowledgement.
    const type = r.headers.get('content-type') ?? '';
    if (!/\bjson\b/i.test(type)) {
      throw new VigilApiError(r.status, 'bad_response', `${request}: ${r.status} with an unexpected answer (content type '${type || 'none'}'): ${oneLine(r.text) || 'empty body'}`, undefined, undefined, request);
    }
    const parsed = schema.safeParse(r.body);
    if (!parsed.success) {
      const what = typeof r.body === 'string' || r.body === null ? 'not JSON' : parsed.error.issues[0]?.message ?? 'invalid';
      throw new VigilApiError(r.status, 'bad_response', `${request}: ${r.status} with an unexpected answer (${what}): ${oneLine(r.text) || 'empty body'}`, parsed.error.issues, undefined, request);
    }
    return { status: r.status, body: parsed.data };
  }
  const get = async <S extends z.ZodType>(schema: S, path: string): Promise<z.infer<S>> => (await call(schema, 'GET', path)).body;

  return {
    raw,
    /** One call: a 2xx answer checked against `schema` (with its status), else VigilApiError. */
    request: call,
    /** The same client with another token (e.g. a computer's). */
    withToken: (token: string | null) => createVigilClient({ ...opts, token }),

    health: () => get(Health, '/healthz'),

    // ------------------------------------------------------------ software releases (admin)
    async putSoftwareRelease(id: string, body: SoftwareReleasePut): Promise<{ created: boolean; softwareRelease: SoftwareRelease }> {
      const r = await call(SoftwareRelease, 'PUT', `/v1/software-releases/${enc(id)}`, body);
      return { created: r.status === 201, softwareRelease: r.body };
    },
    getSoftwareRelease: (id: string) => get(SoftwareRelease, `/v1/software-releases/${enc(id)}`),
    listSoftwareReleases: (q: PageQuery = {}) => get(SoftwareReleaseList, `/v1/software-releases${query(q)}`),

    // ------------------------------------------------------------ computers (admin)
    /** First PUT: `{created: true, token}` (shown only now); later: `{created: false, computer}`. */
    async putComputer(id: string, body: ComputerPut = {}): Promise<{ created: true; token: ComputerToken } | { created: false; computer: Computer }> {
      const r = await call(ComputerToken.or(Computer), 'PUT', `/v1/computers/${enc(id)}`, body);
      return 'token' in r.body ? { created: true, token: r.body } : { created: false, computer: r.body };
    },
    rotateComputerToken: async (id: string) => (await call(ComputerToken, 'POST', `/v1/computers/${enc(id)}/token`)).body,
    getComputer: (id: string) => get(Computer, `/v1/computers/${enc(id)}`),
    listComputers: (q: ComputerListQuery = {}) => get(ComputerList, `/v1/computers${query(q)}`),

    // ------------------------------------------------------------ partitions and trees (admin)
    async putPartition(id: string, body: PartitionPut, o: { move?: boolean } = {}): Promise<{ created: boolean; partition: Partition }> {
      const r = await call(Partition, 'PUT', `/v1/partitions/${enc(id)}${o.move ? '?move=true' : ''}`, body);
      return { created: r.status === 201, partition: r.body };
    },
    getPartition: (id: string) => get(PartitionDetail, `/v1/partitions/${enc(id)}`),
    listPartitions: (q: PartitionListQuery = {}) => get(PartitionList, `/v1/partitions${query(q)}`),
    partitionPromises: (id: string, q: PageQuery = {}) => get(PartitionPromises, `/v1/partitions/${enc(id)}/promises${query(q)}`),
    getInstanceTree: (id: string, q: PageQuery = {}) => get(InstanceTree, `/v1/instance-trees/${enc(id)}${query(q)}`),
    summary: () => get(Summary, '/v1/summary'),

    // ------------------------------------------------------------ bangs
    listBangs: (q: BangListQuery = {}) => get(BangList, `/v1/bangs${query(q)}`),
    /** A bang (computer token, or the admin's for a manual one); 429 over the daily quota. */
    bang: async (partitionId: string, body: BangRequest) => (await call(BangResponse, 'POST', `/v1/partitions/${enc(partitionId)}/bang`, body)).body,

    ...notificationMethods(call, get),

    // ------------------------------------------------------------ the agent's calls (computer token)
    heartbeat: async (computerId: string, body: HeartbeatRequest) => (await call(HeartbeatResponse, 'POST', `/v1/computers/${enc(computerId)}/heartbeat`, body)).body,
    report: async (partitionId: string, body: ReportRequest) => (await call(ReportResponse, 'POST', `/v1/partitions/${enc(partitionId)}/reports`, body)).body,
  };
}

export type VigilClient = ReturnType<typeof createVigilClient>;

/**
 * Every page of a collection, in order: `for await (const page of allPages((cursor) =>
 * client.listPartitions({ cursor, limit: 1000 })))`. Stops at the page whose nextCursor is null.
 */
export async function* allPages<P extends { nextCursor: string | null }>(fetchPage: (cursor: string | undefined) => Promise<P>): AsyncGenerator<P> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield page;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
