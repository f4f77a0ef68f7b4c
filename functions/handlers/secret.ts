// The admin token, read from Secrets Manager and cached in the warm Lambda container.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export const SECRET_CACHE_TTL_MS = 5 * 60_000;
export const RETRY_AFTER_FAILURE_MS = 30_000;

export interface CachedSecretOptions {
  /** How long a fetched value is served before it is fetched again. */
  ttlMs?: number;
  /** Clock (ms), injectable for tests. */
  nowMs?: () => number;
  /** Called when a refresh fails and the previous value is served instead. */
  onStale?: (err: unknown) => void;
}

/**
 * Wraps `fetch` in a cache: one fetch per `ttlMs`, concurrent callers share the in-flight
 * fetch, a failed first fetch is not cached (the next call retries), and when a refresh fails
 * the previous value keeps being served (a Secrets Manager hiccup must not lock admins out).
 */
export function cachedSecret(fetch: () => Promise<string>, opts: CachedSecretOptions = {}): () => Promise<string> {
  const ttlMs = opts.ttlMs ?? SECRET_CACHE_TTL_MS;
  const nowMs = opts.nowMs ?? Date.now;
  let value: string | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<string> | undefined;
  return () => {
    if (value !== undefined && nowMs() - fetchedAt < ttlMs) return Promise.resolve(value);
    inFlight ??= fetch()
      .then(
        (v) => {
          value = v;
          fetchedAt = nowMs();
          return v;
        },
        (err: unknown) => {
          if (value === undefined) throw err;
          opts.onStale?.(err);
          // Serve the previous value, and retry in at most RETRY_AFTER_FAILURE_MS.
          fetchedAt = Math.max(fetchedAt, nowMs() - ttlMs + Math.min(RETRY_AFTER_FAILURE_MS, ttlMs));
          return value;
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

/** Fetches the current value of a string secret. */
export function secretsManagerFetcher(client: SecretsManagerClient, secretId: string): () => Promise<string> {
  return async () => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    const v = out.SecretString;
    if (!v) throw new Error(`secret ${secretId} has no string value`);
    return v.trim();
  };
}
