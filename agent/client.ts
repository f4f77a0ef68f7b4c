// HTTP client of the master's computer API (SPEC §3): heartbeat, reports, bangs.
// Bearer computer token; every request has a timeout; never throws for HTTP/network
// failures — it returns a result the caller classifies (ack / permanent / retry).

export const AGENT_VERSION = '0.1.0';

import type { z } from 'zod';
import { createVigilClient, VigilApiError } from '../protocol/client.ts';
import { type BangRequest, BangResponse, HeartbeatResponse, type ReportRequest, ReportResponse } from '../protocol/index.ts';

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
  heartbeat(): Promise<CallResult<HeartbeatResponse>>;
  report(partitionId: string, body: ReportRequest): Promise<CallResult<unknown>>;
  bang(partitionId: string, body: BangRequest): Promise<CallResult<BangResponse>>;
}

/**
 * Is an HTTP status worth retrying later? 5xx, 408 and 429 are; so is 401: a refused token
 * is the computer's problem, not the item's, and the item must survive until the operator
 * fixes the token file. Other 4xx are final (the item itself is refused).
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429 || status === 401;
}

/** Checks a validated answer against the request: the reason it is not its answer, or undefined. */
type AnswerCheck<T> = (body: T) => string | undefined;

export function createMasterClient(opts: MasterClientOptions): MasterClient {
  const api = createVigilClient({
    baseUrl: opts.masterUrl,
    token: opts.token,
    // one deadline for the whole exchange: a body that never ends is a timeout too
    timeoutMs: opts.timeoutMs ?? 10_000,
    headers: { 'user-agent': `vigil-agent/${AGENT_VERSION}` },
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const cid = encodeURIComponent(opts.computerId);

  /** One call of the typed client, classified: ack, retry later, or refused for good. */
  async function call<S extends z.ZodType>(schema: S, path: string, body: unknown, check?: AnswerCheck<z.infer<S>>): Promise<CallResult<z.infer<S>>> {
    try {
      const r = await api.request(schema, 'POST', path, body);
      const why = check?.(r.body);
      if (why) return { ok: false, status: r.status, retryable: true, message: `POST ${path}: ${r.status} with an unexpected answer (${why})` };
      return { ok: true, status: r.status, body: r.body };
    } catch (err) {
      if (!(err instanceof VigilApiError)) throw err;
      // no answer, an answer that is not the master's (a proxy's 2xx), a cut body: retry later
      if (err.status === 0) return { ok: false, retryable: true, message: `POST ${path}: ${err.message.replace(/^cannot reach the master at [^:]+: /, '')}` };
      if (err.code === 'bad_response' || err.code === 'incomplete') return { ok: false, status: err.status, retryable: true, message: err.message };
      const result: CallResult<z.infer<S>> = {
        ok: false,
        status: err.status,
        retryable: isRetryableStatus(err.status),
        message: `POST ${path}: ${err.status} ${err.message}`,
      };
      if (err.retryAfterSeconds !== undefined) result.retryAfterSeconds = err.retryAfterSeconds;
      return result;
    }
  }

  return {
    masterUrl: opts.masterUrl.replace(/\/+$/, ''),
    heartbeat: () => call(HeartbeatResponse, `/v1/computers/${cid}/heartbeat`, { agentVersion: AGENT_VERSION }),
    report: (partitionId, body) =>
      call(ReportResponse, `/v1/partitions/${encodeURIComponent(partitionId)}/reports`, body, (b) =>
        b.reportId === body.reportId ? undefined : `not an answer for report ${body.reportId}`,
      ),
    bang: (partitionId, body) =>
      call(BangResponse, `/v1/partitions/${encodeURIComponent(partitionId)}/bang`, body, (b) =>
        b.bangId === body.bangId ? undefined : `not an answer for bang ${body.bangId}`,
      ),
  };
}
