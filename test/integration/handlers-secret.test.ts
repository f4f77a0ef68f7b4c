// The api's admin token: read from Secrets Manager through the real SDK client (LocalStack, or
// the in-process emulator of test/helpers/cloud-secrets.ts) and cached in the warm container.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedSecret, RETRY_AFTER_FAILURE_MS, SECRET_CACHE_TTL_MS, secretsManagerFetcher } from '../../functions/handlers/secret.ts';
import { freePort } from '../helpers/global-setup.ts';
import { createSecretsFixture, type SecretsFixture } from '../helpers/cloud-secrets.ts';

let secrets: SecretsFixture;
let deadClient: SecretsManagerClient;

beforeAll(async () => {
  secrets = await createSecretsFixture();
  // A Secrets Manager that does not answer: nothing listens on this port.
  deadClient = new SecretsManagerClient({
    endpoint: `http://127.0.0.1:${await freePort()}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  deadClient?.destroy();
  await secrets?.close();
});

describe('admin token from Secrets Manager', () => {
  it('one GetSecretValue per TTL, shared by concurrent callers; a rotation shows after the TTL', async () => {
    const arn = await secrets.create('va1.first');
    let now = 1_000_000;
    const get = cachedSecret(secretsManagerFetcher(secrets.client, arn), { nowMs: () => now });
    const before = secrets.getSecretValueCalls();
    expect(await Promise.all([get(), get(), get()])).toEqual(['va1.first', 'va1.first', 'va1.first']);
    expect(secrets.getSecretValueCalls() - before).toBe(1);
    await secrets.put(arn, 'va1.second');
    now += SECRET_CACHE_TTL_MS - 1;
    expect(await get()).toBe('va1.first');
    now += 1;
    expect(await get()).toBe('va1.second');
    expect(secrets.getSecretValueCalls() - before).toBe(2);
  });

  it('an unknown secret fails, and the failure is not cached', async () => {
    const get = cachedSecret(secretsManagerFetcher(secrets.client, 'vigil-test-does-not-exist'));
    await expect(get()).rejects.toThrow(/can't find|not found|ResourceNotFound/i);
    const before = secrets.getSecretValueCalls();
    await expect(get()).rejects.toThrow();
    expect(secrets.getSecretValueCalls() - before).toBe(1);
  });

  it('during an outage the cached token keeps working; the refresh is retried, not on every call', async () => {
    const arn = await secrets.create('va1.kept');
    let now = 5_000_000;
    let down = false;
    let attempts = 0;
    const live = secretsManagerFetcher(secrets.client, arn);
    const dead = secretsManagerFetcher(deadClient, arn);
    const stale: unknown[] = [];
    const get = cachedSecret(
      () => {
        attempts++;
        return down ? dead() : live();
      },
      { nowMs: () => now, onStale: (e) => stale.push(e) },
    );
    expect(await get()).toBe('va1.kept');
    down = true;
    now += SECRET_CACHE_TTL_MS;
    expect(await get()).toBe('va1.kept');
    expect(stale).toHaveLength(1);
    expect(await get()).toBe('va1.kept');
    expect(attempts).toBe(2); // no new attempt inside the retry window
    down = false;
    await secrets.put(arn, 'va1.rotated');
    now += RETRY_AFTER_FAILURE_MS;
    expect(await get()).toBe('va1.rotated');
    expect(attempts).toBe(3);
  });
});
