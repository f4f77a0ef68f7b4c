// `npx cdk synth` (the real CLI, cdk.json → bin/app.ts, cdk-nag on) bundles the three handlers
// offline with local esbuild; the api bundle answers /healthz through the Lambda adapter in a
// fresh node process, outside the repository (no node_modules to fall back on).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createAwsFixture } from '../helpers/aws.ts';
import { apiGatewayV2Event, functionUrlEvent, schedulerEvent, sqsEvent, sqsRecord } from '../helpers/cloud-events.ts';
import { FRESH_ENV, runBundleEvents, runBundleFresh } from '../helpers/cloud-bundle.ts';
import { createSecretsFixture } from '../helpers/cloud-secrets.ts';
import { startEdge } from '../helpers/edge.ts';
import { startFakeEventBridge } from '../helpers/eventbridge.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { verifySignature } from '../../functions/notify/deliver.ts';

const root = new URL('../..', import.meta.url).pathname;
const MiB = 1024 * 1024;
let outdir = '';
const bundles: Record<string, string> = {};

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'vigil-cdk-'));
  const cli = join(root, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  const r = spawnSync(process.execPath, [cli, 'synth', '--quiet', '--no-notices', '--output', outdir], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      CDK_DISABLE_VERSION_CHECK: '1',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      // offline: no credentials, no account lookups
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
    },
  });
  if (r.status !== 0) throw new Error(`cdk synth failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const template = JSON.parse(readFileSync(join(outdir, 'Vigil.template.json'), 'utf8'));
  for (const res of Object.values(template.Resources) as { Type: string; Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: string } }; Code: { S3Key: string } } }[]) {
    if (res.Type !== 'AWS::Lambda::Function') continue;
    const service = res.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME.replace(/^vigil-/, '');
    const hash = String(res.Properties.Code.S3Key).replace(/\.zip$/, '');
    bundles[service] = join(outdir, `asset.${hash}`, 'index.mjs');
  }
}, 180_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('Lambda bundles from cdk synth', () => {
  it('one distinct bundle per function, with its source map', () => {
    expect(Object.keys(bundles).sort()).toEqual(['admin', 'api', 'fanout', 'notify', 'sweep']);
    for (const file of Object.values(bundles)) {
      expect(existsSync(file), file).toBe(true);
      expect(existsSync(`${file}.map`), `${file}.map`).toBe(true);
    }
    // the admin function runs the api bundle (another route set)
    expect(bundles.admin).toBe(bundles.api);
    expect(new Set(Object.values(bundles)).size).toBe(4);
  });

  it('bundles are minified ESM with a source map pointing at the TypeScript sources', () => {
    for (const [name, file] of Object.entries(bundles)) {
      if (name === 'admin') continue;
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n').length;
      expect(text.length / lines, `${name}: average line length`).toBeGreaterThan(1000);
      expect(text.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map'), name).toBe(true);
      const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[]; sourcesContent?: unknown };
      expect(map.sources.some((src) => src.endsWith(`functions/handlers/${name}.ts`)), name).toBe(true);
      expect(map.sourcesContent, `${name}: sources are not shipped`).toBeUndefined();
    }
  });

  it('as deployed (--enable-source-maps), a configuration error names the variable and the .ts line', () => {
    const { TABLE_NAME: _missing, ...env } = FRESH_ENV;
    expect(() => runBundleFresh(bundles.sweep!, { source: 'vigil.scheduler' }, env)).toThrow(
      /environment variable TABLE_NAME is not set[\s\S]*functions\/handlers\/runtime\.ts:\d+/,
    );
  });

  it('the api bundle is at most 1 MiB', () => {
    expect(statSync(bundles.api!).size).toBeLessThanOrEqual(MiB);
  });

  it.each([
    ['API Gateway v2', apiGatewayV2Event],
    ['function URL', functionUrlEvent],
  ])('the api bundle answers GET /healthz (%s event) in a fresh node process', (_label, shape) => {
    const run = runBundleFresh(bundles.api!, shape({ method: 'GET', path: '/healthz' }));
    const res = run.result as { statusCode: number; body: string; headers: Record<string, string> };
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(res.body)).toBeTypeOf('object');
  });

  it('the api bundle answers a bad request with a JSON 401, not a crash', () => {
    const run = runBundleFresh(bundles.api!, apiGatewayV2Event({ method: 'GET', path: '/v1/computers' }));
    const res = run.result as { statusCode: number; body: string };
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body).error).toBeTypeOf('string');
  });

  it('the fanout, sweep and notify bundles load and export a handler', () => {
    for (const name of ['fanout', 'sweep', 'notify']) {
      const run = runBundleFresh(bundles[name]!, null);
      expect(run.loadMs).toBeGreaterThan(0);
    }
  });
});

describe('the bundles against one endpoint (AWS_ENDPOINT_URL only, as LocalStack\'s edge port)', () => {
  it('api → SQS → fanout → heartbeat → sweep, every AWS call through the one port', async () => {
    const aws = await createAwsFixture();
    const secrets = await createSecretsFixture();
    const ADMIN = 'va1.edge-admin-token';
    const awsQueueUrl = `https://sqs.us-east-1.amazonaws.com/000000000000/${aws.queueUrl.split('/').pop()}`;
    const edge = await startEdge({
      dynamodb: inject('dynamoEndpoint'),
      sqs: inject('sqsEndpoint'),
      secretsmanager: secrets.endpoint,
      queueUrls: { [awsQueueUrl]: aws.queueUrl },
    });
    try {
      const env = {
        ...FRESH_ENV,
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: edge.endpoint,
        TABLE_NAME: aws.tableName,
        // What a deployed stack passes: an AWS queue URL, whose host must NOT be used.
        BANG_QUEUE_URL: awsQueueUrl,
        ADMIN_TOKEN_SECRET_ARN: await secrets.create(ADMIN),
      };
      const admin = { authorization: `Bearer ${ADMIN}` };
      type Res = { statusCode: number; body: string };
      const json = (r: unknown) => JSON.parse((r as Res).body);
      const status = (r: unknown) => (r as Res).statusCode;
      const [sr, computer] = await runBundleEvents(
        bundles.api!,
        [
          functionUrlEvent({ method: 'PUT', path: '/v1/software-releases/edge-sr', headers: admin, body: { url: 'https://example.com/edge.cfg' } }),
          functionUrlEvent({ method: 'PUT', path: '/v1/computers/edge-c', headers: admin, body: {} }),
        ],
        env,
      );
      expect(status(sr)).toBe(201);
      expect(status(computer)).toBe(201);
      const bearer = { authorization: `Bearer ${json(computer).token}` };
      const now = new Date().toISOString();
      const results = await runBundleEvents(
        bundles.api!,
        [
          functionUrlEvent({ method: 'PUT', path: '/v1/partitions/edge-p1', headers: admin, body: { computerId: 'edge-c', instanceTreeId: 'edge-t', softwareReleaseId: 'edge-sr' } }),
          functionUrlEvent({ method: 'PUT', path: '/v1/partitions/edge-p2', headers: admin, body: { computerId: 'edge-c', instanceTreeId: 'edge-t', softwareReleaseId: 'edge-sr' } }),
          functionUrlEvent({ method: 'POST', path: '/v1/computers/edge-c/heartbeat', headers: bearer, body: { agentVersion: 'edge' } }),
          functionUrlEvent({ method: 'POST', path: '/v1/partitions/edge-p1/reports', headers: bearer, body: { reportId: 'edge-r', kind: 'instantiation', startedAt: now, durationMs: 5, ok: true, promises: [] } }),
          functionUrlEvent({ method: 'POST', path: '/v1/partitions/edge-p1/bang', headers: bearer, body: { bangId: 'edge-b', message: 'edge', source: 'promise' } }),
        ],
        env,
      );
      expect(results.map(status)).toEqual([201, 201, 200, 202, 202]);
      // The bang went through the queue (not the inline fallback): the message is there.
      const got = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
      expect(got.Messages).toHaveLength(1);
      const [fan] = await runBundleEvents(bundles.fanout!, [sqsEvent(got.Messages!.map((m) => sqsRecord(m, 'arn:aws:sqs:us-east-1:000000000000:bangs')))], env);
      expect(fan).toEqual({ batchItemFailures: [] });
      const [hb, tree] = await runBundleEvents(
        bundles.api!,
        [
          functionUrlEvent({ method: 'POST', path: '/v1/computers/edge-c/heartbeat', headers: bearer, body: { agentVersion: 'edge' } }),
          functionUrlEvent({ method: 'GET', path: '/v1/instance-trees/edge-t', headers: admin }),
        ],
        env,
      );
      expect(json(hb).reprocess.map((r: { partitionId: string }) => r.partitionId).sort()).toEqual(['edge-p1', 'edge-p2']);
      expect(json(tree).colour).toBe('red');
      const [sweep] = await runBundleEvents(bundles.sweep!, [schedulerEvent(new Date())], env);
      expect(sweep).toMatchObject({ examined: expect.any(Number) });
      const services = new Set(edge.calls.map((c) => c.split(' ')[0]));
      expect([...services].sort()).toEqual(['dynamodb', 'secretsmanager', 'sqs']);
      expect(edge.calls).toContain('sqs SendMessage');
      expect(edge.calls).toContain('secretsmanager GetSecretValue');
    } finally {
      await edge.close();
      await secrets.close();
      await aws.dispose();
    }
  });

  it('api → notify queue → notify: a refused bang reaches a webhook and the bus, every AWS call through the one port', async () => {
    const aws = await createAwsFixture();
    const secrets = await createSecretsFixture();
    const rx = await startReceiver();
    const bus = await startFakeEventBridge();
    const ADMIN = 'va1.edge-notify-admin';
    const notifyQueue = (await aws.sqs.send(new CreateQueueCommand({ QueueName: `vigil-notify-${Date.now().toString(36)}` }))).QueueUrl!;
    const awsNotifyUrl = `https://sqs.us-east-1.amazonaws.com/000000000000/${notifyQueue.split('/').pop()}`;
    const awsQueueUrl = `https://sqs.us-east-1.amazonaws.com/000000000000/${aws.queueUrl.split('/').pop()}`;
    const edge = await startEdge({
      dynamodb: inject('dynamoEndpoint'),
      sqs: inject('sqsEndpoint'),
      secretsmanager: secrets.endpoint,
      events: bus.endpoint,
      queueUrls: { [awsQueueUrl]: aws.queueUrl, [awsNotifyUrl]: notifyQueue },
    });
    try {
      const env = {
        ...FRESH_ENV,
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: edge.endpoint,
        TABLE_NAME: aws.tableName,
        BANG_QUEUE_URL: awsQueueUrl,
        NOTIFY_QUEUE_URL: awsNotifyUrl,
        EVENT_BUS_NAME: 'Vigil-VigilEvents',
        VIGIL_PUBLIC_URL: 'https://admin.example.com',
        ADMIN_TOKEN_SECRET_ARN: await secrets.create(ADMIN),
      };
      const admin = { authorization: `Bearer ${ADMIN}` };
      const results = await runBundleEvents(
        bundles.api!,
        [
          functionUrlEvent({ method: 'PUT', path: '/v1/channels/edge-hook', headers: admin, body: { kind: 'webhook', url: `${rx.url}/in` } }),
          functionUrlEvent({ method: 'PUT', path: '/v1/software-releases/edge-sr0', headers: admin, body: { url: 'https://example.com/sr0', bangQuotaPerDay: 0 } }),
          functionUrlEvent({ method: 'PUT', path: '/v1/computers/edge-nc', headers: admin, body: {} }),
          functionUrlEvent({ method: 'PUT', path: '/v1/partitions/edge-np', headers: admin, body: { computerId: 'edge-nc', instanceTreeId: 'edge-nt', softwareReleaseId: 'edge-sr0' } }),
          functionUrlEvent({ method: 'POST', path: '/v1/partitions/edge-np/bang', headers: admin, body: { bangId: 'edge-nb', message: 'over quota', source: 'manual' } }),
        ],
        env,
      );
      const status = (r: unknown) => (r as { statusCode: number }).statusCode;
      expect(results.map(status)).toEqual([201, 201, 201, 201, 429]);
      const secret = JSON.parse((results[0] as { body: string }).body).secret as string;
      const got = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: notifyQueue, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
      expect(got.Messages).toHaveLength(1);
      const [res] = await runBundleEvents(bundles.notify!, [sqsEvent(got.Messages!.map((m) => sqsRecord(m, 'arn:aws:sqs:us-east-1:000000000000:notify')))], env);
      expect(res).toEqual({ batchItemFailures: [] });
      expect(rx.requests).toHaveLength(1);
      const req = rx.requests[0]!;
      expect(req.headers['x-vigil-event-type']).toBe('bang.rejected');
      expect(verifySignature(secret, req.rawBody, String(req.headers['x-vigil-signature']))).toBe(true);
      expect(JSON.parse(req.rawBody.toString('utf8')).link).toBe('https://admin.example.com/partitions/edge-np');
      expect(bus.entries.map((e) => [e.DetailType, e.Detail])).toEqual([['bang.rejected', req.rawBody.toString('utf8')]]);
      expect(edge.calls).toContain('events PutEvents');
      expect(edge.calls).toContain('sqs SendMessage');
    } finally {
      await edge.close();
      await rx.close();
      await bus.close();
      await secrets.close();
      await aws.dispose();
    }
  });
});
