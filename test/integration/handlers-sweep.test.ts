// The sweep Lambda handler (functions/handlers/sweep.ts) invoked with the input our
// EventBridge Scheduler schedule sends: it records colour transitions at the master's clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_ACCESS } from '../../lib/constructs/vigil-table.ts';
import { createApiHandler } from '../../functions/handlers/api.ts';
import { storeFromEnv } from '../../functions/handlers/runtime.ts';
import { createSweepHandler, type SweepHandler } from '../../functions/handlers/sweep.ts';
import { createSqsBangQueue } from '../../functions/queue.ts';
import type { Store } from '../../functions/store/types.ts';
import { type AwsFixture, createAwsFixture, makeDynamoClient } from '../helpers/aws.ts';
import { type AccessLog, recordDynamoAccess } from '../helpers/cloud-access.ts';
import { apiGatewayV2Event, lambdaContext, schedulerEvent } from '../helpers/cloud-events.ts';
import { captureObservability, type CapturedObservability } from '../helpers/cloud-obs.ts';

const T0 = new Date('2025-06-02T10:00:00.000Z');
const min = (n: number) => new Date(T0.getTime() + n * 60_000);
let clock = T0;
let aws: AwsFixture;
let store: Store;
let sweepDynamo: ReturnType<typeof makeDynamoClient>;
let access: AccessLog;
let obs: CapturedObservability;
let sweep: SweepHandler;

beforeAll(async () => {
  aws = await createAwsFixture();
  store = storeFromEnv({ TABLE_NAME: aws.tableName }, aws);
  sweepDynamo = makeDynamoClient();
  access = recordDynamoAccess(sweepDynamo);
  obs = captureObservability('vigil-sweep');
  sweep = createSweepHandler({ store: storeFromEnv({ TABLE_NAME: aws.tableName }, { dynamo: sweepDynamo }), now: () => clock }, obs);

  // A computer that heartbeats at T0, through the api handler with the same clock.
  const api = createApiHandler(
    { store, queue: createSqsBangQueue({ client: aws.sqs, queueUrl: aws.queueUrl }), now: () => clock, adminToken: () => 'admin', dashboard: false },
    captureObservability('vigil-api'),
  );
  const put = (await api(apiGatewayV2Event({ method: 'PUT', path: '/v1/computers/sweepy', headers: { authorization: 'Bearer admin' }, body: {} }) as never, lambdaContext())) as { statusCode: number; body: string };
  expect(put.statusCode).toBe(201);
  const token = JSON.parse(put.body).token as string;
  const hb = (await api(
    apiGatewayV2Event({ method: 'POST', path: '/v1/computers/sweepy/heartbeat', headers: { authorization: `Bearer ${token}` }, body: { agentVersion: 't' } }) as never,
    lambdaContext(),
  )) as { statusCode: number };
  expect(hb.statusCode).toBe(200);
});

afterAll(async () => {
  await aws?.dispose();
  sweepDynamo?.destroy();
});

describe('sweep handler', () => {
  it('a scheduler event at T0+6 min records green → orange for a silent computer', async () => {
    clock = min(6);
    const r = await sweep(schedulerEvent(min(6)), lambdaContext('vigil-sweep'));
    expect(r.transitions).toContainEqual(expect.objectContaining({ type: 'computer', id: 'sweepy', from: 'green', to: 'orange' }));
    const c = await store.getComputer('sweepy');
    expect(c?.colour).toBe('orange');
    expect(obs.metric('ColourChanges')).toBeGreaterThanOrEqual(1);
    expect(obs.logs.some((l) => l.message === 'colour changed' && l.id === 'sweepy')).toBe(true);
  });

  it('the next minute has nothing due: the one computer read, no partition, no transition', async () => {
    clock = min(7);
    const r = await sweep(schedulerEvent(min(7)), lambdaContext('vigil-sweep'));
    expect(r.changed).toBe(0);
    expect(r.examined).toBe(1);
    expect(r.summary.computers).toEqual({ green: 0, orange: 1, red: 0 });
  });

  it('uses the master clock, not scheduledTime, and publishes the delay', async () => {
    clock = min(61);
    // Scheduled 3 minutes earlier than it ran (a late invocation).
    const r = await sweep(schedulerEvent(min(58)), lambdaContext('vigil-sweep'));
    expect(r.transitions).toContainEqual(expect.objectContaining({ id: 'sweepy', from: 'orange', to: 'red' }));
    const delays = obs.emf.map((d) => d.SweepDelayMs).filter((v) => typeof v === 'number');
    expect(delays.at(-1)).toBe(3 * 60_000);
  });

  it('publishes two custom metrics only (each one is billed as a metric-month, docs/cost.md)', () => {
    const names = new Set(obs.emf.flatMap((d) => ((d._aws as { CloudWatchMetrics?: { Metrics: { Name: string }[] }[] } | undefined)?.CloudWatchMetrics ?? []).flatMap((m) => m.Metrics.map((x) => x.Name))));
    expect([...names].sort()).toEqual(['ColourChanges', 'SweepDelayMs']);
  });

  it('accepts an event without input (e.g. a manual test invoke)', async () => {
    const r = await sweep({}, lambdaContext('vigil-sweep'));
    expect(r.changed).toBe(0);
  });

  it('every DynamoDB request of the sweep is allowed by its IAM role (lib TABLE_ACCESS.sweep)', () => {
    expect(access.actions.size).toBeGreaterThan(1);
    for (const a of access.actions) expect(TABLE_ACCESS.sweep.actions as readonly string[], a).toContain(a);
    expect([...access.indexes]).toEqual([...TABLE_ACCESS.sweep.indexes]);
  });
});
