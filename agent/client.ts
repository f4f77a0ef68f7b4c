// HTTP client of the master's computer API (SPEC §3): heartbeat, reports, bangs.
// Bearer computer token; every request has a timeout; never throws for HTTP/network
// failures — it returns a result the caller classifies (ack / permanent / retry).

export const AGENT_VERSION = '0.1.0';

import type {
  BangRequest,
  BangResponse,
  HeartbeatResponse,
  PromiseReport,
  ReportRequest,
  Reprocess,
  HeartbeatPartition as WireHeartbeatPartition,
} from '../protocol/index.ts';

export type ReprocessRequest = Reprocess;
export type HeartbeatPartition = WireHeartbeatPartition;
export type HeartbeatReply = HeartbeatResponse & {
  /** the computer's instantiation frequency, when the master sends it (not in SPEC §3) */
  instantiationFrequencySeconds?: number;
};
export type ReportPromise = PromiseReport;
export type ReportBody = ReportRequest;
export type BangBody = BangRequest;
export type BangReply = BangResponse;

export type CallResult<T> =
  | { ok: true; status: number; body: T }
  | {
      ok: false;
      /** HTTP status; absent for network errors and timeouts */
      status?: number;
      /** true when retrying later can succeed (network, timeout, 5xx, 408, 429, 401, a 2xx that is not the master's answer) */
      retryable: boolean;
      /** seconds from a Retry-After header */
      retryAfterSeconds?: number;
      message: string;
    };

export interface MasterClientOptions {
  masterUrl: string;
  computerId: string;
  /** the computer token, or a function giving the current one (re-read token file) */
  token: string | (() => string);
  /** per-request timeout (default 10 s) */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface MasterClient {
  readonly masterUrl: string;
  heartbeat(): Promise<CallResult<HeartbeatReply>>;
  report(partitionId: string, body: ReportBody): Promise<CallResult<unknown>>;
  bang(partitionId: string, body: BangBody): Promise<CallResult<BangReply>>;
}

/**
 * Is an HTTP status worth retrying later? 5xx, 408 and 429 are; so is 401: a refused token
 * is the computer's problem, not the item's, and the item must survive until the operator
 * fixes the token file. Other 4xx are final (the item itself is refused).
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429 || status === 401;
}

function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs;
  const at = Date.parse(value);
  if (Number.isFinite(at)) return Math.max(0, Math.ceil((at - now) / 1000));
  return undefined;
}

/** Checks a 2xx answer's parsed JSON body: the reason it is not the master's answer, or undefined. */
type AnswerCheck = (body: unknown) => string | undefined;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const heartbeatAnswer: AnswerCheck = (b) =>
  isObject(b) && Array.isArray(b.partitions) && Array.isArray(b.reprocess) ? undefined : 'no partitions/reprocess lists';

const reportAnswer =
  (reportId: string): AnswerCheck =>
  (b) => {
    if (!isObject(b) || b.reportId !== reportId) return `not an answer for report ${reportId}`;
    return b.status === 'accepted' || b.status === 'duplicate' || b.status === 'stale' ? undefined : `report status ${JSON.stringify(b.status)}`;
  };

const bangAnswer =
  (bangId: string): AnswerCheck =>
  (b) =>
    isObject(b) && b.bangId === bangId && typeof b.fannedOutTo === 'number' ? undefined : `not an answer for bang ${bangId}`;

function oneLine(text: string, max = 120): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function createMasterClient(opts: MasterClientOptions): MasterClient {
  const base = opts.masterUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const doFetch = opts.fetch ?? fetch;
  const cid = encodeURIComponent(opts.computerId);

  async function call<T>(path: string, body: unknown, check: AnswerCheck): Promise<CallResult<T>> {
    const url = `${base}${path}`;
    // one deadline for the whole exchange: a body that never ends is a timeout too
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${typeof opts.token === 'function' ? opts.token() : opts.token}`,
          'content-type': 'application/json',
          'user-agent': `vigil-agent/${AGENT_VERSION}`,
        },
        body: JSON.stringify(body),
        signal,
      });
    } catch (err) {
      const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
      const detail = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
      return {
        ok: false,
        retryable: true,
        message: timedOut ? `POST ${path}: no answer within ${timeoutMs} ms` : `POST ${path}: ${detail}`,
      };
    }
    let text: string;
    try {
      text = await res.text();
    } catch {
      // the status alone proves nothing (a proxy may have answered): retry later
      return { ok: false, status: res.status, retryable: true, message: `POST ${path}: ${res.status} but no complete answer within ${timeoutMs} ms` };
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) {
      // a 2xx counts only when it is the master's answer: a captive portal, a misrouted load
      // balancer or a cut body must not make the agent drop a report
      const type = res.headers.get('content-type') ?? '';
      const why = !/\bjson\b/i.test(type)
        ? `content type '${type || 'none'}'`
        : parsed === undefined
          ? 'not JSON'
          : check(parsed);
      if (!why) return { ok: true, status: res.status, body: parsed as T };
      return {
        ok: false,
        status: res.status,
        retryable: true,
        message: `POST ${path}: ${res.status} with an unexpected answer (${why}): ${oneLine(text) || 'empty body'}`,
      };
    }
    const errBody = parsed as { error?: unknown; message?: unknown } | undefined;
    const what = typeof errBody?.message === 'string' ? errBody.message : text.slice(0, 200) || res.statusText;
    const result: CallResult<T> = {
      ok: false,
      status: res.status,
      retryable: isRetryableStatus(res.status),
      message: `POST ${path}: ${res.status} ${what}`,
    };
    const ra = parseRetryAfter(res.headers.get('retry-after'));
    if (ra !== undefined) result.retryAfterSeconds = ra;
    return result;
  }

  return {
    masterUrl: base,
    heartbeat: () => call<HeartbeatReply>(`/v1/computers/${cid}/heartbeat`, { agentVersion: AGENT_VERSION }, heartbeatAnswer),
    report: (partitionId, body) =>
      call<unknown>(`/v1/partitions/${encodeURIComponent(partitionId)}/reports`, body, reportAnswer(body.reportId)),
    bang: (partitionId, body) => call<BangReply>(`/v1/partitions/${encodeURIComponent(partitionId)}/bang`, body, bangAnswer(body.bangId)),
  };
}

/** Keep a heartbeat reply usable even if the master adds or omits optional fields. */
export function normalizeHeartbeat(body: unknown): HeartbeatReply {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const reprocess = Array.isArray(b.reprocess) ? b.reprocess : [];
  const partitions = Array.isArray(b.partitions) ? b.partitions : [];
  const reply: HeartbeatReply = {
    serverTime: typeof b.serverTime === 'string' ? b.serverTime : new Date().toISOString(),
    reprocess: reprocess.filter(
      (r): r is ReprocessRequest =>
        typeof r === 'object' && r !== null && typeof (r as ReprocessRequest).partitionId === 'string' &&
        typeof (r as ReprocessRequest).requestedAt === 'string',
    ),
    partitions: partitions
      .filter(
        (p): p is HeartbeatPartition =>
          typeof p === 'object' && p !== null && typeof (p as HeartbeatPartition).partitionId === 'string',
      )
      .map((p) => ({ ...p, periodicitySeconds: typeof p.periodicitySeconds === 'number' ? p.periodicitySeconds : null })),
  };
  if (typeof b.instantiationFrequencySeconds === 'number' && b.instantiationFrequencySeconds > 0) {
    reply.instantiationFrequencySeconds = b.instantiationFrequencySeconds;
  }
  return reply;
}
