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
      /** true when retrying later can succeed (network, timeout, 5xx, 408, 429, 401) */
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

export function createMasterClient(opts: MasterClientOptions): MasterClient {
  const base = opts.masterUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const doFetch = opts.fetch ?? fetch;
  const cid = encodeURIComponent(opts.computerId);

  async function call<T>(path: string, body: unknown): Promise<CallResult<T>> {
    const url = `${base}${path}`;
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
        signal: AbortSignal.timeout(timeoutMs),
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
    let text = '';
    try {
      text = await res.text();
    } catch {
      // body lost: status is enough
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) return { ok: true, status: res.status, body: parsed as T };
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
    heartbeat: () => call<HeartbeatReply>(`/v1/computers/${cid}/heartbeat`, { agentVersion: AGENT_VERSION }),
    report: (partitionId, body) => call<unknown>(`/v1/partitions/${encodeURIComponent(partitionId)}/reports`, body),
    bang: (partitionId, body) => call<BangReply>(`/v1/partitions/${encodeURIComponent(partitionId)}/bang`, body),
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
