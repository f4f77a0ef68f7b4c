// Store failures that are the store's, not the request's: DynamoDB (or the local master's
// embedded store) answering 5xx or throttling after the SDK's own retries, or its endpoint
// unreachable. The app answers them 503 `unavailable` with Retry-After (the agent spools
// and retries), never a 500 that looks like a bug; anything else stays a 500 `internal`.

/** Seconds a client is asked to wait after a 503 from the store. */
export const STORE_RETRY_AFTER_SECONDS = 30;

const UNAVAILABLE = new Set([
  'InternalServerError',
  'ServiceUnavailable',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'TimeoutError',
]);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

export function isStoreUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name && UNAVAILABLE.has(e.name)) return true;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return !!e.code && NETWORK.has(e.code);
}

/** A `?cursor=` that is not one this list gave (garbage, another list's, or one given with other filters): a 400 naming query.cursor. */
export class InvalidCursor extends Error {
  override readonly name = 'InvalidCursor';
}
