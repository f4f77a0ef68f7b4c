// The api Lambda handler (functions/handlers/api.ts) driven with real API Gateway HTTP API
// (payload 2.0) and Lambda function URL events, on DynamoDB Local + fauxqs (or LocalStack),
// with the admin token read from Secrets Manager and the bang fanned out by the fanout handler.
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_ACCESS } from '../../lib/constructs/vigil-table.ts';
import { createApiHandler, type ApiHandler, routeSetFromEnv } from '../../functions/handlers/api.ts';
import { createFanoutHandler } from '../../functions/handlers/fanout.ts';
import { apiDepsFromEnv, storeFromEnv } from '../../functions/handlers/runtime.ts';
import { keys, TTL_ATTRIBUTE } from '../../functions/store/table.ts';
import { ComputerToken, HeartbeatResponse } from '../../protocol/index.ts';
import { type AwsFixture, createAwsFixture } from '../helpers/aws.ts';
import { type AccessLog, recordDynamoAccess } from '../helpers/cloud-access.ts';
import { apiGatewayV2Event, functionUrlEvent, type HttpRequest, lambdaContext, sqsEvent, sqsRecord } from '../helpers/cloud-events.ts';
import { captureObservability, type CapturedObservability } from '../helpers/cloud-obs.ts';
import { createSecretsFixture, type SecretsFixture } from '../helpers/cloud-secrets.ts';

const ADMIN = 'va1.test-admin-token-from-secrets-manager';
let aws: AwsFixture;
let secrets: SecretsFixture;
let access: AccessLog;
let obs: CapturedObservability;
let handler: ApiHandler;
const clock = new Date('2025-06-02T10:00:00.000Z');

type Shape = (req: HttpRequest) => ReturnType<typeof apiGatewayV2Event>;
const shapes: [string, Shape][] = [
  ['API Gateway v2', apiGatewayV2Event],
  ['function URL', functionUrlEvent],
];

async function call(shape: Shape, req: HttpRequest) {
  const res = await handler(shape(req) as never, lambdaContext('vigil-api'));
  const r = res as { statusCode: number; body: string; headers?: Record<string, string>; isBase64Encoded?: boolean; cookies?: string[] };
  const text = r.isBase64Encoded ? Buffer.from(r.body, 'base64').toString('utf8') : r.body;
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: r.statusCode, headers: r.headers ?? {}, text, json, cookies: r.cookies };
}
const admin = { authorization: `Bearer ${ADMIN}` };

beforeAll(async () => {
  [aws, secrets] = await Promise.all([createAwsFixture(), createSecretsFixture()]);
  access = recordDynamoAccess(aws.dynamo);
  const secretArn = await secrets.create(ADMIN);
  obs = captureObservability('vigil-api');
  const env = { TABLE_NAME: aws.tableName, BANG_QUEUE_URL: aws.queueUrl, ADMIN_TOKEN_SECRET_ARN: secretArn };
  const deps = apiDepsFromEnv(env, { dynamo: aws.dynamo, sqs: aws.sqs, secrets: secrets.client }, obs.logger);
  handler = createApiHandler({ ...deps, now: () => clock }, obs);
});

afterAll(async () => {
  await aws?.dispose();
  await secrets?.close();
});

describe.each(shapes)('api handler with %s events', (label, shape) => {
  it('GET /healthz → 200 JSON', async () => {
    const r = await call(shape, { method: 'GET', path: '/healthz' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(r.json).toBeTypeOf('object');
  });

  it('admin routes need the token from Secrets Manager', async () => {
    expect((await call(shape, { method: 'GET', path: '/v1/computers' })).status).toBe(401);
    const wrong = await call(shape, { method: 'GET', path: '/v1/computers', headers: { authorization: 'Bearer nope' } });
    expect([401, 403]).toContain(wrong.status);
    expect(wrong.json?.error).toBeTypeOf('string');
    const ok = await call(shape, { method: 'GET', path: '/v1/computers', headers: admin });
    expect(ok.status).toBe(200);
    expect(Array.isArray(ok.json?.computers)).toBe(true);
  });

  it('bad input → 400 naming the field; unknown route → 404; body over 256 KiB → 413', async () => {
    const bad = await call(shape, { method: 'PUT', path: `/v1/software-releases/sr-${label.length}`, headers: admin, body: { url: 42 } });
    expect(bad.status).toBe(400);
    expect(bad.json?.message).toMatch(/url/);
    const missing = await call(shape, { method: 'GET', path: '/v1/nope', headers: admin });
    expect(missing.status).toBe(404);
    const big = await call(shape, {
      method: 'PUT',
      path: '/v1/software-releases/big',
      headers: admin,
      body: { url: `https://example.com/${'x'.repeat(300 * 1024)}` },
    });
    expect(big.status).toBe(413);
  });
});

describe('a computer through the Lambda adapter', () => {
  const id = `c-${Date.now().toString(36)}`;
  let token = '';

  it('registers an SR, a computer (201 + token once) and two partitions of one tree', async () => {
    const sr = await call(apiGatewayV2Event, { method: 'PUT', path: '/v1/software-releases/sr-web', headers: admin, body: { url: 'https://example.com/sr-web.cfg' } });
    expect([200, 201]).toContain(sr.status);
    const c = await call(functionUrlEvent, { method: 'PUT', path: `/v1/computers/${id}`, headers: admin, body: {} });
    expect(c.status).toBe(201);
    expect(c.json?.computerId).toBe(id);
    token = ComputerToken.parse(c.json).token;
    expect(token).toBeTypeOf('string');
    for (const p of ['p-a', 'p-b']) {
      const r = await call(apiGatewayV2Event, {
        method: 'PUT',
        path: `/v1/partitions/${id}-${p}`,
        headers: admin,
        body: { computerId: id, instanceTreeId: `tree-${id}`, softwareReleaseId: 'sr-web' },
      });
      expect([200, 201]).toContain(r.status);
    }
  });

  it('heartbeat with a base64-encoded body (as function URLs may send it)', async () => {
    const r = await call(functionUrlEvent, {
      method: 'POST',
      path: `/v1/computers/${id}/heartbeat`,
      headers: { authorization: `Bearer ${token}` },
      body: { agentVersion: 'test 1' },
      base64: true,
    });
    expect(r.status).toBe(200);
    const hb = HeartbeatResponse.parse(r.json);
    expect(hb.serverTime).toBe(clock.toISOString());
    expect(hb.partitions.map((p) => p.partitionId).sort()).toEqual([`${id}-p-a`, `${id}-p-b`]);
    expect(hb.reprocess).toEqual([]);
  });

  it('a report is accepted (202) and turns the partition green', async () => {
    const report = {
      reportId: `r-${id}`,
      kind: 'instantiation',
      startedAt: clock.toISOString(),
      durationMs: 1200,
      ok: true,
      promises: [{ name: 'ok.py', title: 'ok', kind: 'test', failed: false, message: 'fine', date: clock.toISOString(), executionTimeMs: 12 }],
    };
    const r = await call(apiGatewayV2Event, { method: 'POST', path: `/v1/partitions/${id}-p-a/reports`, headers: { authorization: `Bearer ${token}` }, body: report });
    expect(r.status).toBe(202);
    const again = await call(apiGatewayV2Event, { method: 'POST', path: `/v1/partitions/${id}-p-a/reports`, headers: { authorization: `Bearer ${token}` }, body: report });
    expect(again.status).toBe(202);
    expect(again.json?.status).toBe('duplicate');
    const p = await call(functionUrlEvent, { method: 'GET', path: `/v1/partitions/${id}-p-a`, headers: admin });
    expect(p.json?.colour).toBe('green');
  });

  it('a bang (202) goes through SQS to the fanout handler, which flags the whole tree', async () => {
    const bang = await call(functionUrlEvent, {
      method: 'POST',
      path: `/v1/partitions/${id}-p-a/bang`,
      headers: { authorization: `Bearer ${token}` },
      body: { bangId: `b-${id}`, message: 'disk full', source: 'promise' },
    });
    expect(bang.status).toBe(202);
    expect(bang.json?.fannedOutTo).toBe(2);

    // The message the api sent, as the event source mapping would deliver it.
    const got = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: aws.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, MessageSystemAttributeNames: ['All'] }),
    );
    expect(got.Messages).toHaveLength(1);
    const fanout = createFanoutHandler({ store: storeFromEnv({ TABLE_NAME: aws.tableName }, aws), now: () => clock }, captureObservability('vigil-fanout'));
    const res = await fanout(sqsEvent(got.Messages!.map((m) => sqsRecord(m, 'arn:aws:sqs:eu-west-1:123456789012:bangs'))), lambdaContext('vigil-fanout'));
    expect(res.batchItemFailures).toEqual([]);

    const hb = await call(apiGatewayV2Event, { method: 'POST', path: `/v1/computers/${id}/heartbeat`, headers: { authorization: `Bearer ${token}` }, body: { agentVersion: 'test 1' } });
    expect(HeartbeatResponse.parse(hb.json).reprocess.map((r) => r.partitionId).sort()).toEqual([`${id}-p-a`, `${id}-p-b`]);
  });

  it('report history carries the TTL attribute the deployed table expires on (epoch seconds, in the future)', async () => {
    const got = await aws.dynamo.send(
      new QueryCommand({
        TableName: aws.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: keys.historyPk(`${id}-p-a`) } },
        ConsistentRead: true,
      }),
    );
    // one item: the report with its one promise result
    expect(got.Items?.length).toBe(1);
    const nowS = clock.getTime() / 1000;
    for (const item of got.Items ?? []) {
      const ttl = Number(item[TTL_ATTRIBUTE]?.N);
      expect(ttl).toBeGreaterThan(nowS + 86400);
      expect(ttl).toBeLessThan(nowS + 366 * 86400); // seconds, not milliseconds
    }
  });

  it.each(shapes)('the dashboard logs in and shows the fleet (%s events, HTTPS-only cookie)', async (_label, shape) => {
    const form = `token=${encodeURIComponent(ADMIN)}&next=%2F`;
    const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
    const wrong = await call(shape, { method: 'POST', path: '/login', headers: formHeaders, body: 'token=nope&next=%2F', base64: true });
    expect(wrong.status).toBe(401);
    expect(wrong.cookies ?? []).toEqual([]);
    const login = await call(shape, { method: 'POST', path: '/login', headers: formHeaders, body: form, base64: true });
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/');
    const cookie = (login.cookies ?? []).find((c) => c.startsWith('vigil_session='));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    const page = await call(shape, { method: 'GET', path: '/', cookies: [cookie!.split(';')[0]!] });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain(id);
    expect(page.text).not.toContain('name="token"');
    // without the cookie `/` is the login form
    const anonymous = await call(shape, { method: 'GET', path: '/' });
    expect(anonymous.text).toContain('name="token"');
    // logging out ends the session in the table: the same cookie opens nothing afterwards
    const origin = `https://${shape({ method: 'GET', path: '/' }).requestContext.domainName}`;
    const out = await call(shape, { method: 'POST', path: '/logout', headers: { origin }, cookies: [cookie!.split(';')[0]!] });
    expect(out.status).toBe(303);
    const after = await call(shape, { method: 'GET', path: '/', cookies: [cookie!.split(';')[0]!] });
    expect(after.text).toContain('name="token"');
  });

  it('a computer token is refused on admin routes and on another computer', async () => {
    const r = await call(apiGatewayV2Event, { method: 'GET', path: '/v1/computers', headers: { authorization: `Bearer ${token}` } });
    expect([401, 403]).toContain(r.status);
    const other = await call(apiGatewayV2Event, { method: 'POST', path: '/v1/computers/someone-else/heartbeat', headers: { authorization: `Bearer ${token}` }, body: { agentVersion: 'x' } });
    expect([401, 403, 404]).toContain(other.status);
  });
});

describe('the agents\' function (VIGIL_ROUTES=computer)', () => {
  const id = `cr-${Date.now().toString(36)}`;
  let computerFn: ApiHandler;
  const run = async (h: ApiHandler, req: HttpRequest) => {
    const res = (await h(functionUrlEvent(req) as never, lambdaContext('vigil-api'))) as { statusCode: number; body: string };
    return { status: res.statusCode, json: JSON.parse(res.body) };
  };
  beforeAll(async () => {
    // (the admin token given directly: the test below counts Secrets Manager calls of the other handler)
    const env = { TABLE_NAME: aws.tableName, BANG_QUEUE_URL: aws.queueUrl, ADMIN_TOKEN_SECRET_ARN: 'unused' };
    const deps = apiDepsFromEnv(env, { dynamo: aws.dynamo, sqs: aws.sqs, secrets: secrets.client }, obs.logger);
    computerFn = createApiHandler({ ...deps, adminToken: () => ADMIN, now: () => clock }, captureObservability('vigil-api'), routeSetFromEnv('computer'));
  });

  it('serves heartbeats, reports, bangs and /healthz; answers every admin or dashboard path 404 naming the admin URL', async () => {
    await call(apiGatewayV2Event, { method: 'PUT', path: '/v1/software-releases/sr-cr', headers: admin, body: { url: 'https://example.com/cr.cfg' } });
    const { token } = ComputerToken.parse((await call(apiGatewayV2Event, { method: 'PUT', path: `/v1/computers/${id}`, headers: admin, body: {} })).json);
    await call(apiGatewayV2Event, { method: 'PUT', path: `/v1/partitions/${id}-p`, headers: admin, body: { computerId: id, instanceTreeId: `t-${id}`, softwareReleaseId: 'sr-cr' } });
    const bearer = { authorization: `Bearer ${token}` };
    expect((await run(computerFn, { method: 'GET', path: '/healthz' })).status).toBe(200);
    expect((await run(computerFn, { method: 'POST', path: `/v1/computers/${id}/heartbeat`, headers: bearer, body: { agentVersion: 't' } })).status).toBe(200);
    const report = { reportId: `r-${id}`, kind: 'instantiation', startedAt: clock.toISOString(), durationMs: 1, ok: true, promises: [] };
    expect((await run(computerFn, { method: 'POST', path: `/v1/partitions/${id}-p/reports`, headers: bearer, body: report })).status).toBe(202);
    const bang = await run(computerFn, { method: 'POST', path: `/v1/partitions/${id}-p/bang`, headers: bearer, body: { bangId: `b-${id}`, message: 'm', source: 'manual' } });
    expect(bang.status).toBe(202);
    for (const [method, path] of [
      ['GET', '/v1/computers'],
      ['PUT', `/v1/computers/${id}`],
      ['GET', `/v1/partitions/${id}-p`],
      ['GET', '/v1/bangs'],
      ['GET', '/'],
      ['POST', '/login'],
      ['GET', '/openapi.json'],
      ['GET', `/v1/computers/${id}/heartbeat`],
    ] as const) {
      const r = await run(computerFn, { method, path, headers: admin });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.json?.message).toMatch(/admin URL/);
    }
    expect(() => routeSetFromEnv('some')).toThrow(/VIGIL_ROUTES must be 'all' or 'computer'/);
  });
});

describe('failure limiter on Lambda (issue 10)', () => {
  it('counts failures by the event source IP, not X-Forwarded-For; valid tokens still pass', async () => {
    const guess = (sourceIp: string, i: number) =>
      call(functionUrlEvent, { method: 'GET', path: '/v1/computers', headers: { authorization: `Bearer guess-${i}`, 'x-forwarded-for': `192.0.2.${i}` }, sourceIp });
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await guess('198.51.100.20', i)).status);
    expect(statuses).toEqual([...Array(10).fill(401), ...Array(4).fill(429)]);
    const limited = await guess('198.51.100.20', 99);
    expect(limited.json?.error).toBe('too_many_failures');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // another client is not limited; the right admin token from it passes
    expect((await guess('198.51.100.21', 0)).status).toBe(401);
    expect((await call(functionUrlEvent, { method: 'GET', path: '/v1/computers', headers: admin, sourceIp: '198.51.100.21' })).status).toBe(200);
  });
});

describe('observability and permissions', () => {
  it('reads the admin token from Secrets Manager once, then from the cache', () => {
    expect(secrets.getSecretValueCalls()).toBe(1);
  });

  it('publishes no metric line per healthy request (request counts come from AWS/Lambda)', () => {
    // (the cold-start metric goes through Powertools' own single-metric emitter)
    expect(obs.metric('ApiServerErrors')).toBe(0);
    expect(obs.emf).toEqual([]);
  });

  it('a store fault (missing table) answers a JSON 500, logged with the Lambda context, counted in ApiServerErrors', async () => {
    const broken = captureObservability('vigil-api');
    const deps = apiDepsFromEnv(
      { TABLE_NAME: 'vigil-no-such-table', BANG_QUEUE_URL: aws.queueUrl, ADMIN_TOKEN_SECRET_ARN: 'unused' },
      { dynamo: aws.dynamo, sqs: aws.sqs, secrets: secrets.client },
      broken.logger,
    );
    const h = createApiHandler({ ...deps, adminToken: () => ADMIN }, broken);
    const res = (await h(apiGatewayV2Event({ method: 'GET', path: '/v1/computers', headers: admin }) as never, lambdaContext('vigil-api'))) as {
      statusCode: number;
      body: string;
    };
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: 'internal', message: 'internal error' });
    expect(broken.metric('ApiServerErrors')).toBe(1);
    expect(broken.emf[0]?._aws?.CloudWatchMetrics?.[0]?.Namespace).toBe('Vigil');
    const err = broken.logs.find((l) => l.level === 'ERROR');
    expect(err?.function_name).toBe('vigil-api');
    expect(JSON.stringify(err)).toMatch(/ResourceNotFound|non-existent table|Cannot do operations/i);
  });

  it('the table unreachable: 503 unavailable with Retry-After (the agent spools), not a 500', async () => {
    const broken = captureObservability('vigil-api');
    const dynamo = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    const deps = apiDepsFromEnv(
      { TABLE_NAME: 'vigil', BANG_QUEUE_URL: aws.queueUrl, ADMIN_TOKEN_SECRET_ARN: 'unused' },
      { dynamo, sqs: aws.sqs, secrets: secrets.client },
      broken.logger,
    );
    const h = createApiHandler({ ...deps, adminToken: () => ADMIN }, broken);
    const res = (await h(apiGatewayV2Event({ method: 'GET', path: '/v1/computers', headers: admin }) as never, lambdaContext('vigil-api'))) as {
      statusCode: number;
      body: string;
      headers?: Record<string, string>;
    };
    dynamo.destroy();
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'unavailable', message: expect.stringContaining('ECONNREFUSED') });
    expect(Number(res.headers?.['retry-after'])).toBeGreaterThan(0);
    expect(broken.metric('ApiServerErrors')).toBe(1);
  });

  it('every DynamoDB request of the api is allowed by its IAM role (lib TABLE_ACCESS.api)', () => {
    expect(access.actions.size).toBeGreaterThan(3);
    for (const a of access.actions) expect(TABLE_ACCESS.api.actions as readonly string[], a).toContain(a);
    for (const i of access.indexes) expect(TABLE_ACCESS.api.indexes as readonly string[], i).toContain(i);
  });
});
