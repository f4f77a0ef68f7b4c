// The cloud front's app part (issue 12 item 7): a malformed or non-`vc1.` token is refused with
// no DynamoDB read; a forged token of a known computer costs nothing (its hash is known), an
// unknown id at most one read every few seconds; computer calls never need the admin token, so
// with Secrets Manager unreachable on a cold container heartbeats and reports go on while admin
// routes answer 503.
import { randomBytes } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/app.ts';
import { createApiHandler } from '../../functions/handlers/api.ts';
import { apiDepsFromEnv } from '../../functions/handlers/runtime.ts';
import { TOKEN_RECHECK_MS } from '../../functions/token-cache.ts';
import { createVigilClient } from '../../protocol/client.ts';
import { lambdaContext, functionUrlEvent } from '../helpers/cloud-events.ts';
import { captureObservability } from '../helpers/cloud-obs.ts';
import { meterCapacity } from '../helpers/capacity.ts';
import { freePort } from '../helpers/global-setup.ts';
import { createTestMaster, type TestMaster } from '../helpers/master.ts';
import { addComputer, addPartition, addSr, report } from '../helpers/master-fleet.ts';

const forgedFor = (id: string) => `vc1.${Buffer.from(id).toString('base64url')}.${randomBytes(32).toString('base64url')}`;

describe('forged tokens', () => {
  let m: TestMaster;
  const tokens: string[] = [];
  beforeAll(async () => {
    m = await createTestMaster({ dashboard: false });
    await addSr(m, 'sr');
    for (let i = 0; i < 20; i++) {
      tokens.push(await addComputer(m, `c${i}`));
      await addPartition(m, `p${i}`, `c${i}`, 'tree', 'sr');
      await m.as(tokens[i] as string).heartbeat(`c${i}`, { agentVersion: '1' });
    }
  });
  afterAll(() => m?.dispose());

  it('a flood of forged tokens while valid computers heartbeat: valid ones always 200, the flood costs ~0 units', async () => {
    const meter = meterCapacity(m.aws.dynamo);
    m.clock.advance(1000);
    const flood: Promise<number>[] = [];
    const valid: Promise<number>[] = [];
    const status = (p: Promise<{ status: number }>) => p.then((r) => r.status);
    meter.reset();
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 20; i++) {
        // known ids with random secrets, 5 unknown ids again and again, malformed and admin-shaped guesses
        flood.push(status(m.call('POST', `/v1/computers/c${i}/heartbeat`, { agentVersion: 'x' }, forgedFor(`c${i}`))));
        flood.push(status(m.call('POST', `/v1/computers/ghost${i % 5}/heartbeat`, { agentVersion: 'x' }, forgedFor(`ghost${i % 5}`))));
        flood.push(status(m.call('POST', `/v1/partitions/p${i}/reports`, report(`f${round}-${i}`, m.clock.now()), forgedFor(`c${i}`))));
        flood.push(status(m.call('POST', `/v1/computers/c${i}/heartbeat`, { agentVersion: 'x' }, `vc1.${'x'.repeat(i)}`)));
      }
      for (let i = 0; i < 20; i++) valid.push(status(m.call('POST', `/v1/computers/c${i}/heartbeat`, { agentVersion: '1' }, tokens[i] as string)));
    }
    const [floodStatus, validStatus] = await Promise.all([Promise.all(flood), Promise.all(valid)]);
    expect(floodStatus.every((s) => s === 401)).toBe(true);
    expect(validStatus.every((s) => s === 200)).toBe(true);
    const u = meter.units();
    // the valid heartbeats: exactly one write unit each; the 800 forged requests: one look-up of each of the 5 unknown ids
    expect(u.write).toBe(valid.length);
    expect(u.refusedWrites).toBe(0);
    expect(u.read).toBeLessThanOrEqual(5);
    expect(u.requests.GetItemCommand ?? 0).toBeLessThanOrEqual(5);
  });

  it('a token rotated here works at once; rotated through another process, within TOKEN_RECHECK_MS; the old one is refused at once', async () => {
    const other = createApp({ ...m.deps, dashboard: false });
    const admin2 = createVigilClient({ fetch: (p, i) => other.request(p, i), token: m.adminToken });
    const fresh = await m.api.rotateComputerToken('c0');
    expect((await m.call('POST', '/v1/computers/c0/heartbeat', { agentVersion: '1' }, fresh.token)).status).toBe(200);
    expect((await m.call('POST', '/v1/computers/c0/heartbeat', { agentVersion: '1' }, tokens[0] as string)).status).toBe(401);
    // rotated by the other process (e.g. the admin function): this one knows the previous hash for a while
    const again = await admin2.rotateComputerToken('c0');
    expect((await m.call('POST', '/v1/computers/c0/heartbeat', { agentVersion: '1' }, again.token)).status).toBe(401);
    m.clock.advance(TOKEN_RECHECK_MS);
    expect((await m.call('POST', '/v1/computers/c0/heartbeat', { agentVersion: '1' }, again.token)).status).toBe(200);
    expect((await m.call('POST', '/v1/computers/c0/heartbeat', { agentVersion: '1' }, fresh.token)).status).toBe(401);
    // the other way round: the old token used first is refused by the store's condition, which tells the new hash
    const third = await admin2.rotateComputerToken('c0');
    expect((await m.call('POST', '/v1/computers/c0/heartbeat', { agentVersion: '1' }, again.token)).status).toBe(401);
    expect((await m.call('POST', '/v1/computers/c0/heartbeat', { agentVersion: '1' }, third.token)).status).toBe(200);
    expect((await m.call('POST', '/v1/partitions/p0/reports', report('after-rotation', m.clock.now()), third.token)).status).toBe(202);
  });

  it('a computer registered through another process works within TOKEN_RECHECK_MS of a refused guess of its id', async () => {
    expect((await m.call('POST', '/v1/computers/late/heartbeat', { agentVersion: '1' }, forgedFor('late'))).status).toBe(401);
    const other = createApp({ ...m.deps, dashboard: false });
    const r = await createVigilClient({ fetch: (p, i) => other.request(p, i), token: m.adminToken }).putComputer('late');
    if (!r.created) throw new Error('late existed');
    m.clock.advance(TOKEN_RECHECK_MS);
    expect((await m.call('POST', '/v1/computers/late/heartbeat', { agentVersion: '1' }, r.token.token)).status).toBe(200);
  });
});

describe('Secrets Manager unreachable on a cold container', () => {
  let m: TestMaster;
  let token: string;
  let dead: SecretsManagerClient;
  beforeAll(async () => {
    m = await createTestMaster({ dashboard: true });
    await addSr(m, 'sr');
    token = await addComputer(m, 'cold');
    await addPartition(m, 'cold-p', 'cold', 'cold-tree', 'sr');
    dead = new SecretsManagerClient({ endpoint: `http://127.0.0.1:${await freePort()}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    dead?.destroy();
    await m?.dispose();
  });

  it('heartbeats 200, reports and bangs 202; admin routes 503', async () => {
    const obs = captureObservability('vigil-api');
    const env = { TABLE_NAME: m.aws.tableName, BANG_QUEUE_URL: m.aws.queueUrl, ADMIN_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:vigil-admin' };
    const handler = createApiHandler(apiDepsFromEnv(env, { dynamo: m.aws.dynamo, sqs: m.aws.sqs, secrets: dead }, obs.logger), obs);
    const call = async (method: string, path: string, bearer: string, body?: object) => {
      const r = (await handler(functionUrlEvent({ method, path, headers: { authorization: `Bearer ${bearer}` }, ...(body === undefined ? {} : { body }) }) as never, lambdaContext('vigil-api'))) as {
        statusCode: number;
        headers?: Record<string, string>;
      };
      return r;
    };
    expect((await call('POST', '/v1/computers/cold/heartbeat', token, { agentVersion: '1' })).statusCode).toBe(200);
    expect((await call('POST', '/v1/partitions/cold-p/reports', token, report('r1', new Date()))).statusCode).toBe(202);
    expect((await call('POST', '/v1/partitions/cold-p/bang', token, { bangId: 'b1', message: 'down', source: 'watchdog' })).statusCode).toBe(202);
    // a forged computer token is still refused (401), without the admin token
    expect((await call('POST', '/v1/computers/cold/heartbeat', forgedFor('cold'), { agentVersion: '1' })).statusCode).toBe(401);
    const adminCall = await call('GET', '/v1/computers', 'va1.some-admin-token');
    expect(adminCall.statusCode).toBe(503);
    expect(adminCall.headers?.['retry-after']).toBe('30');
    expect((await call('POST', '/v1/partitions/cold-p/bang', 'va1.some-admin-token', { bangId: 'b2', message: 'manual', source: 'manual' })).statusCode).toBe(503);
  });
});
