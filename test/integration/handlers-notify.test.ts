// The notify Lambda handler (functions/handlers/notify.ts) with SQS batches as the event
// source mapping delivers them and with the scheduler's input: deliveries to a real receiver,
// the EventBridge pseudo-channel (a stand-in PutEvents endpoint), a poison message failing
// alone and, after NOTIFY_MAX_RECEIVES receives, in the dead-letter queue; delayed self
// wake-ups; every DynamoDB request within the function's role.
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNotifyHandler, type NotifyHandler, type NotifyRun } from '../../functions/handlers/notify.ts';
import { storeFromEnv } from '../../functions/handlers/runtime.ts';
import { createEventBridgeSender } from '../../functions/notify-bus.ts';
import { createSqsNotifyWake } from '../../functions/notify-queue.ts';
import { verifySignature } from '../../functions/notify/deliver.ts';
import { bangAcceptedEvent } from '../../functions/notify/derive.ts';
import { webhookBody } from '../../functions/notify/format.ts';
import { putChannel } from '../../functions/services/notify-admin.ts';
import { publishEvents } from '../../functions/services/notify-publish.ts';
import { NOTIFY_MAX_RECEIVES } from '../../functions/services/notify-wake.ts';
import type { Store } from '../../functions/store/types.ts';
import { TABLE_ACCESS } from '../../lib/constructs/vigil-table.ts';
import type { VigilEvent } from '../../protocol/events.ts';
import { type AwsFixture, createAwsFixture, makeDynamoClient, uniqueName } from '../helpers/aws.ts';
import { type AccessLog, recordDynamoAccess } from '../helpers/cloud-access.ts';
import { lambdaContext, type PollResult, pollEventSource, schedulerEvent, sqsEvent, sqsRecord } from '../helpers/cloud-events.ts';
import { captureObservability, type CapturedObservability } from '../helpers/cloud-obs.ts';
import { type FakeEventBridge, startFakeEventBridge } from '../helpers/eventbridge.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';

let aws: AwsFixture;
let store: Store;
let access: AccessLog;
let obs: CapturedObservability;
let handler: NotifyHandler;
let rx: Receiver;
let bus: FakeEventBridge;
let now = new Date('2025-06-03T10:00:00.000Z');
let queueUrl = '';
let dlqUrl = '';
let queueArn = '';
let handlerDynamo: ReturnType<typeof makeDynamoClient>;
let eventBridge: EventBridgeClient;
const wakes: number[] = [];
let secret = '';
let n = 0;

const deps = () => ({ store, now: () => now, notify: { baseUrl: 'https://vigil.example.com', eventBus: true } });

function bang(partitionId: string): VigilEvent {
  n++;
  return bangAcceptedEvent({
    bang: { bangId: `hb-${n}`, partitionId, computerId: 'COMP-N', instanceTreeId: 'tree-n', source: 'promise', message: `bang ${n}` },
    fannedOutTo: 2,
    partitionIds: [partitionId],
    partitionCount: 2,
    at: now.toISOString(),
    silences: [],
    baseUrl: 'https://vigil.example.com',
  });
}

const wake = JSON.stringify({ v: 1, events: [] });

/** One poll of the event source mapping: receive, invoke, delete what succeeded. */
const pollOnce = (): Promise<PollResult> => pollEventSource({ sqs: aws.sqs, queueUrl, queueArn, handler, functionName: 'vigil-notify' });

beforeAll(async () => {
  aws = await createAwsFixture();
  store = storeFromEnv({ TABLE_NAME: aws.tableName }, aws);
  handlerDynamo = makeDynamoClient();
  access = recordDynamoAccess(handlerDynamo);
  rx = await startReceiver();
  bus = await startFakeEventBridge();
  eventBridge = new EventBridgeClient({ endpoint: bus.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const dlq = await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('vigil-notify-dlq') }));
  dlqUrl = dlq.QueueUrl!;
  const dlqArn = (await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const q = await aws.sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('vigil-notify'),
      // what lib/constructs/notify.ts deploys
      Attributes: { VisibilityTimeout: '360', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: NOTIFY_MAX_RECEIVES }) },
    }),
  );
  queueUrl = q.QueueUrl!;
  queueArn = (await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  obs = captureObservability('vigil-notify');
  handler = createNotifyHandler(
    {
      deps: { ...deps(), store: storeFromEnv({ TABLE_NAME: aws.tableName }, { dynamo: handlerDynamo }), now: () => now },
      options: { random: () => 0, timeoutMs: 5000, bus: createEventBridgeSender({ client: eventBridge, busName: 'Vigil-VigilEvents' }) },
      wakeLater: async (s) => {
        wakes.push(s);
      },
    },
    obs,
  );
  const r = await putChannel({ store, now: () => now }, 'hook', { kind: 'webhook', url: `${rx.url}/hook` });
  secret = r.outcome === 'saved' ? (r.channel.secret ?? '') : '';
});

afterAll(async () => {
  if (aws) {
    for (const url of [queueUrl, dlqUrl]) if (url) await aws.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {});
    await aws.dispose();
  }
  handlerDynamo?.destroy();
  eventBridge?.destroy();
  await rx?.close();
  await bus?.close();
});

beforeEach(() => {
  rx.requests.length = 0;
  rx.behave({ kind: 'status', status: 200 });
  bus.entries.length = 0;
  bus.mode = 'ok';
  wakes.length = 0;
});

describe('notify handler', () => {
  it('an SQS batch: the poison message fails alone; the queued events reach the webhook and the bus', async () => {
    const evs = [bang('hp-1'), bang('hp-2')];
    await publishEvents(deps(), evs);
    const records = [
      sqsRecord({ MessageId: 'ok', Body: JSON.stringify({ v: 1, events: evs.map((e) => e.eventId) }) }, queueArn),
      sqsRecord({ MessageId: 'poison-json', Body: '{nope' }, queueArn),
      sqsRecord({ MessageId: 'poison-shape', Body: JSON.stringify({ v: 2 }) }, queueArn),
    ];
    const res = await handler(sqsEvent(records), lambdaContext('vigil-notify'));
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['poison-json', 'poison-shape']);
    expect(rx.requests.map((r) => r.headers['x-vigil-event-id']).sort()).toEqual(evs.map((e) => e.eventId).sort());
    for (const r of rx.requests) expect(verifySignature(secret, r.rawBody, String(r.headers['x-vigil-signature']))).toBe(true);
    // the bus: detail-type = the event type, detail = the webhook body
    expect(bus.entries.map((e) => e.Detail).sort()).toEqual(evs.map(webhookBody).sort());
    expect(bus.entries.every((e) => e.Source === 'vigil' && e.DetailType === 'bang.accepted' && e.EventBusName === 'Vigil-VigilEvents')).toBe(true);
    expect(obs.metric('Delivered')).toBe(4);
    expect(obs.metric('MalformedNotifyMessages')).toBe(2);
  });

  it('a batch where every record is poison throws, so Lambda retries it', async () => {
    await expect(handler(sqsEvent([sqsRecord({ MessageId: 'p', Body: 'x' }, queueArn)]), lambdaContext())).rejects.toThrow(/All records failed/i);
  });

  it(`a poison message lands in the DLQ after ${NOTIFY_MAX_RECEIVES} receives; good ones are deleted at once`, async () => {
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: wake }));
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"poison":true}' }));
    const polls: { received: number; failures: number; threw: boolean }[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await pollOnce();
      if (r.received === 0) break;
      polls.push({ received: r.received, failures: r.response?.batchItemFailures.length ?? r.received, threw: !!r.threw });
    }
    expect(polls[0]).toEqual({ received: 2, failures: 1, threw: false });
    expect(polls.slice(1)).toEqual(Array(NOTIFY_MAX_RECEIVES - 1).fill({ received: 1, failures: 1, threw: true }));
    const dead = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(dead.Messages?.map((m) => m.Body)).toEqual(['{"poison":true}']);
  });

  it('the scheduled run retries what came due, and wakes itself for a retry due within the minute', async () => {
    rx.behave({ kind: 'status', status: 503 });
    bus.mode = 'fail-entries';
    const e = bang('hp-3');
    await publishEvents(deps(), [e]);
    const first = (await handler(schedulerEvent(now), lambdaContext())) as NotifyRun;
    expect(first).toMatchObject({ retried: 2, delivered: 0 });
    // both retries due in 5 s: a wake-up with that delay
    expect(wakes).toEqual([5]);
    expect(Date.parse(first.nextWakeAt!)).toBe(now.getTime() + 5000);
    rx.behave({ kind: 'status', status: 200 });
    bus.mode = 'ok';
    now = new Date(now.getTime() + 5000);
    const second = (await handler(schedulerEvent(now), lambdaContext())) as NotifyRun;
    expect(second).toMatchObject({ delivered: 2, retried: 0, nextWakeAt: null });
    expect(rx.requests.map((r) => r.headers['x-vigil-attempt'])).toEqual(['1', '2']);
    expect(bus.entries.map((x) => JSON.parse(x.Detail!).eventId)).toEqual([e.eventId]);
  });

  it('an idle scheduled pass publishes no metric (each custom metric is billed for the hours it is published in)', async () => {
    const before = obs.emf.length;
    const idle = (await handler(schedulerEvent(now), lambdaContext())) as NotifyRun;
    expect(idle).toMatchObject({ delivered: 0, retried: 0, dead: 0 });
    expect(obs.emf.length).toBe(before);
  });

  it('a publisher wakes the function through its queue (createSqsNotifyWake)', async () => {
    const w = createSqsNotifyWake({ client: aws.sqs, queueUrl });
    await w(['ev_0123456789012345678901234567890123456789012'], 0);
    const r = await pollOnce();
    expect(r).toMatchObject({ received: 1, response: { batchItemFailures: [] } });
  });

  it('every DynamoDB request of the handler is allowed by its IAM role (lib TABLE_ACCESS.notify)', () => {
    expect(access.actions.size).toBeGreaterThan(0);
    for (const a of access.actions) expect(TABLE_ACCESS.notify.actions as readonly string[], a).toContain(a);
    for (const i of access.indexes) expect(TABLE_ACCESS.notify.indexes as readonly string[], i).toContain(i);
  });
});
