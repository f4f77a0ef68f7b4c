// What every route module shares: the Hono environment (the deps, and what the auth
// middlewares loaded), the one ApiError, the OpenAPI helpers, and `router()` (an
// OpenAPIHono whose validation failures are 400s naming the field).
import { OpenAPIHono } from '@hono/zod-openapi';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { ErrorBody, Id } from '../../protocol/index.ts';
import type { PartitionRecord } from '../domain/records.ts';
import type { AuthGuard, ClientAddress, FailureLimiter } from '../limiter.ts';
import type { ServiceDeps } from '../services/deps.ts';
import type { ComputerTokenCache } from '../token-cache.ts';

export interface ApiDeps extends ServiceDeps {
  /** The admin token (may be fetched from a secret store; cache it there). */
  adminToken: () => string | Promise<string>;
  /** The client address of a request, for the failure limiter (default: none, no limit). */
  clientAddress?: ClientAddress;
  /** Failure limiter (default: a new one with the limits of functions/limiter.ts). */
  limiter?: FailureLimiter;
  /** The computer token hashes seen in the store (default: a new, empty one). */
  tokens?: ComputerTokenCache;
}

export type ApiEnv = {
  Variables: {
    /** Set for every request by createApp. */
    deps: ApiDeps;
    /** The failure limiter by client address (set by createApp, shared with the dashboard). */
    guard: AuthGuard;
    /** The computer token hashes seen in the store (set by createApp). */
    tokens: ComputerTokenCache;
    /** Set by the auth middlewares: the computer whose token was checked, and the partition it may touch. */
    auth: { computerId: string; tokenHash: string };
    partition: PartitionRecord;
    actor: 'admin' | 'computer';
  };
};

/** An error answered as JSON `{error, message, details?}` (with extra headers, e.g. Retry-After). */
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

export const notFound = (what: string): ApiError => new ApiError(404, 'not_found', `${what} not found`);

// ---------------------------------------------------------------- OpenAPI helpers
export const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
export const err = (description: string) => json(ErrorBody, description);
export const body = <T extends z.ZodType>(schema: T, required = true) => ({ content: { 'application/json': { schema } }, required });
export const security = [{ bearer: [] as string[] }];
export const authErrors = { 401: err('missing or invalid token'), 403: err('token not allowed here'), 413: err('body over 256 KiB') };
/** Admin routes: failed admin-token attempts are limited (functions/limiter.ts). */
export const adminErrors = {
  ...authErrors,
  429: err('too many failed admin-token attempts from this client address (or from all clients): retry after Retry-After seconds'),
};

export const SrParams = z.object({ srId: Id });
export const ComputerParams = z.object({ computerId: Id });
export const PartitionParams = z.object({ partitionId: Id });

function where(target: string, path: PropertyKey[]): string {
  return [target === 'json' ? 'body' : target, ...path.map(String)].join('.');
}

/** A route module's app: failed validation answers 400 naming each field (`body.url: …`). */
export function router(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (result.success) return undefined;
      const target = (result as { target?: string }).target ?? 'input';
      const issues = (result.error as z.ZodError).issues;
      const message = issues
        .slice(0, 5)
        .map((i) => `${where(target, i.path)}: ${i.message}`)
        .join('; ');
      return c.json({ error: 'bad_request', message, details: issues.map((i) => ({ path: where(target, i.path), message: i.message })) }, 400);
    },
  });
}
