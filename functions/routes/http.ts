// The API's HTTP edges, for every route: the body limit (413), bodies read as JSON whatever
// their declared type, and errors answered as JSON `{error, message, details?}`.
import type { ErrorHandler, MiddlewareHandler, NotFoundHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BODY_LIMIT_BYTES } from '../../protocol/limits.ts';
import { InvalidCursor, isStoreUnavailable, STORE_RETRY_AFTER_SECONDS } from '../store/errors.ts';
import { type ApiEnv, ApiError } from './context.ts';

export const limitBody: MiddlewareHandler<ApiEnv> = bodyLimit({
  maxSize: BODY_LIMIT_BYTES,
  onError: (c) => c.json({ error: 'payload_too_large', message: `body over ${BODY_LIMIT_BYTES / 1024} KiB` }, 413),
});

/**
 * Bodies of the API are JSON whatever the client declares: `curl -d` sends
 * application/x-www-form-urlencoded and fetch() with a string body text/plain. A body that
 * is not JSON then gets a 400 naming it, never a 415 (SPEC §3 error codes).
 * An empty body is read as `{}`: `curl -X PUT …/computers/ID` registers with the defaults,
 * and a required field is then named in the 400 rather than "malformed JSON".
 */
export const jsonBodies: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const m = c.req.method;
  if (m === 'POST' || m === 'PUT' || m === 'PATCH') {
    if (!/json/i.test(c.req.header('content-type') ?? '')) c.req.raw.headers.set('content-type', 'application/json');
    // (Hono caches the body text as a promise under bodyCache.text; the json validator reads it.)
    if ((await c.req.text()).trim() === '') (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve('{}');
  }
  await next();
};

export function errorHandler(logError: (message: string, err: unknown) => void): ErrorHandler<ApiEnv> {
  return (e, c) => {
    if (e instanceof ApiError) {
      for (const [k, v] of Object.entries(e.headers ?? {})) c.header(k, v);
      return c.json({ error: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) }, e.status);
    }
    if (e instanceof InvalidCursor) {
      return c.json({ error: 'bad_request', message: `query.cursor: ${e.message}`, details: [{ path: 'query.cursor', message: e.message }] }, 400);
    }
    if (e instanceof HTTPException) {
      const status = e.status as ContentfulStatusCode;
      const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : status === 400 ? 'bad_request' : 'http_error';
      const message = status === 400 && /json/i.test(e.message) ? `body: malformed JSON (${e.message})` : e.message || `HTTP ${status}`;
      return c.json({ error: code, message }, status);
    }
    if (e instanceof InvalidCursor) {
      return c.json({ error: 'bad_request', message: `query.cursor: ${e.message}`, details: [{ path: 'query.cursor', message: e.message }] }, 400);
    }
    if (isStoreUnavailable(e)) {
      // the store's trouble, not the request's (a full disk under the local master, DynamoDB throttling)
      logError(`vigil: ${c.req.method} ${c.req.path}: store unavailable`, `${e.name}: ${e.message}`);
      c.header('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
      return c.json({ error: 'unavailable', message: `the master cannot use its store now, retry later: ${e.message}` }, 503);
    }
    logError(`vigil: ${c.req.method} ${c.req.path} failed`, e);
    return c.json({ error: 'internal', message: 'internal error' }, 500);
  };
}

export const noRoute: NotFoundHandler<ApiEnv> = (c) => c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404);
