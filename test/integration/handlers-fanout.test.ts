// The fanout Lambda handler (functions/handlers/fanout.ts) with SQS batches as the event source
// mapping delivers them: a poison message fails alone (batchItemFailures), and after
// maxReceiveCount receives the queue's redrive policy moves it to the dead-letter queue
// (fauxqs implements RedrivePolicy; LocalStack too).
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BANG_QUEUE_MAX_RECEIVE_COUNT } from '../../lib/constructs/bang-queue.ts';
import { TABLE_ACCESS } from '../../lib/constructs/vigil-table.ts';
import { createFanoutHandler, type FanoutHandler } from '../../functions/handlers/fanout.ts';
import { storeFromEnv } from '../../functions/handlers/runtime.ts';
import type { BangMessage } from '../../functions/services/bang-message.ts';
import { assignPartition, registerComputer } from '../../functions/services/registry.ts';
import type { Store } from '../../functions/store/types.ts';
import { type AwsFixture, createAwsFixture, makeDynamoClient, uniqueName } from '../helpers/aws.ts';
import { type AccessLog, recordDynamoAccess } from '../helpers/cloud-access.ts';
import { lambdaContext, type PollResult, pollEventSource, sqsEvent, sqsRecord } from '../helpers/cloud-events.ts';
import { captureObservability, type CapturedObservability } from '../helpers/cloud-obs.ts';

const NOW = '2025-06-02T10:00:00.000Z';
let aws: AwsFixture;
let store: Store;
let access: AccessLog;
let obs: CapturedObservability;
let handler: FanoutHandler;
let queueUrl = '';
let dlqUrl = '';
let queueArn = '';
let handlerDynamo: ReturnType<typeof makeDynamoClient>;

async function seedTree(tree: string, partitions: number): Promise<string[]> {
  const computerId = `${tree}-computer`;
  const deps = { store, now: () => new Date(NOW) };
  await registerComputer(deps, computerId, {});
  const ids: string[] = [];
  for (let i = 0; i < partitions; i++) {
    const partitionId = `${tree}-p${i}`;
    const r = await assignPartition(deps, partitionId, { computerId, instanceTreeId: tree, softwareReleaseId: 'sr-fanout' }, false);
    expect(r.outcome).toBe('created');
    ids.push(partitionId);
  }
  return ids;
}

function bangFor(tree: string, partitionId: string): BangMessage {
  return { bangId: `b-${randomUUID()}`, partitionId, computerId: `${tree}-computer`, instanceTreeId: tree, requestedAt: NOW, reason: `test bang on ${tree}` };
}

async function flaggedIn(tree: string): Promise<string[]> {
  const all = (await store.listPartitions({ instanceTreeId: tree }, { limit: 1000 })).items;
  return all.filter((p) => p.reprocessRequestedAt !== null).map((p) => p.partitionId).sort();
}

/** One poll of the event source mapping: receive, invoke, delete what succeeded. */
const pollOnce = (): Promise<PollResult> => pollEventSource({ sqs: aws.sqs, queueUrl, queueArn, handler, functionName: 'vigil-fanout' });

beforeAll(async () => {
  aws = await createAwsFixture();
  store = storeFromEnv({ TABLE_NAME: aws.tableName }, aws);
  // The handler gets its own client, so only its requests are recorded.
  handlerDynamo = makeDynamoClient();
  access = recordDynamoAccess(handlerDynamo);
  await store.putSoftwareRelease({ softwareReleaseId: 'sr-fanout', url: 'https://example.com/sr', periodicitySeconds: null, bangQuotaPerDay: 24 }, NOW);
  const dlq = await aws.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('vigil-bangs-dlq') }));
  dlqUrl = dlq.QueueUrl!;
  const dlqArn = (await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const q = await aws.sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('vigil-bangs'),
      Attributes: {
        VisibilityTimeout: '180',
        // What lib/constructs/bang-queue.ts deploys.
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: BANG_QUEUE_MAX_RECEIVE_COUNT }),
      },
    }),
  );
  queueUrl = q.QueueUrl!;
  queueArn = (await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  obs = captureObservability('vigil-fanout');
  handler = createFanoutHandler({ store: storeFromEnv({ TABLE_NAME: aws.tableName }, { dynamo: handlerDynamo }), now: () => new Date(NOW) }, obs);
});

afterAll(async () => {
  if (aws) {
    for (const url of [queueUrl, dlqUrl]) if (url) await aws.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => {});
    await aws.dispose();
  }
  handlerDynamo?.destroy();
});

describe('fanout handler', () => {
  it('a batch with poison messages reports exactly those as batchItemFailures, and fans out the rest', async () => {
    const a = await seedTree(uniqueName('ta'), 3);
    const treeA = a[0]!.replace(/-p0$/, '');
    const b = await seedTree(uniqueName('tb'), 2);
    const treeB = b[0]!.replace(/-p0$/, '');
    const bangA = bangFor(treeA, a[0]!);
    await store.createBang({
      bangId: bangA.bangId,
      partitionId: a[0]!,
      computerId: bangA.computerId,
      instanceTreeId: treeA,
      message: 'disk full',
      source: 'promise',
      createdAt: NOW,
      fannedOutTo: 3,
      fanOut: 'pending',
      fanOutCompletedAt: null,
      accepted: true,
    });
    const records = [
      sqsRecord({ MessageId: 'ok-a', Body: JSON.stringify(bangA) }, queueArn),
      sqsRecord({ MessageId: 'poison-json', Body: '{not json' }, queueArn),
      sqsRecord({ MessageId: 'ok-b', Body: JSON.stringify(bangFor(treeB, b[1]!)) }, queueArn),
      sqsRecord({ MessageId: 'poison-shape', Body: JSON.stringify({ bangId: 'x' }) }, queueArn),
    ];
    const res = await handler(sqsEvent(records), lambdaContext('vigil-fanout'));
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['poison-json', 'poison-shape']);
    expect(await flaggedIn(treeA)).toEqual([...a].sort());
    expect(await flaggedIn(treeB)).toEqual([...b].sort());
    expect((await store.getBang(a[0]!, bangA.bangId))?.fanOut).toBe('done');
    expect(obs.metric('PartitionsFlagged')).toBe(5);
    expect(obs.metric('MalformedBangs')).toBe(2);
    expect(obs.logs.some((l) => l.level === 'ERROR' && l.messageId === 'poison-json')).toBe(true);
  });

  it('a redelivered bang changes nothing (idempotent per bangId)', async () => {
    const ids = await seedTree(uniqueName('tc'), 2);
    const tree = ids[0]!.replace(/-p0$/, '');
    const msg = bangFor(tree, ids[0]!);
    const event = sqsEvent([sqsRecord({ MessageId: 'm1', Body: JSON.stringify(msg) }, queueArn)]);
    expect((await handler(event, lambdaContext())).batchItemFailures).toEqual([]);
    const before = (await store.listPartitions({ instanceTreeId: tree }, { limit: 1000 })).items;
    expect((await handler(event, lambdaContext())).batchItemFailures).toEqual([]);
    expect((await store.listPartitions({ instanceTreeId: tree }, { limit: 1000 })).items).toEqual(before);
  });

  it('a batch where every record fails throws, so Lambda retries the whole batch', async () => {
    const event = sqsEvent([sqsRecord({ MessageId: 'only-poison', Body: 'nope' }, queueArn)]);
    await expect(handler(event, lambdaContext())).rejects.toThrow(/All records failed/i);
  });

  it(`a poison message lands in the DLQ after ${BANG_QUEUE_MAX_RECEIVE_COUNT} receives; good ones are deleted at once`, async () => {
    const ids = await seedTree(uniqueName('td'), 2);
    const tree = ids[0]!.replace(/-p0$/, '');
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(bangFor(tree, ids[0]!)) }));
    await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"poison":true}' }));
    const polls: { received: number; failures: number; threw: boolean }[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await pollOnce();
      if (r.received === 0) break;
      polls.push({ received: r.received, failures: r.response?.batchItemFailures.length ?? r.received, threw: !!r.threw });
    }
    // First poll: both, the good one succeeds; then the poison alone (whole batch fails) until
    // its receive count passes maxReceiveCount.
    expect(polls[0]).toEqual({ received: 2, failures: 1, threw: false });
    expect(polls.slice(1)).toEqual(Array(BANG_QUEUE_MAX_RECEIVE_COUNT - 1).fill({ received: 1, failures: 1, threw: true }));
    expect(await flaggedIn(tree)).toEqual([...ids].sort());
    const dead = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
    );
    expect(dead.Messages?.map((m) => m.Body)).toEqual(['{"poison":true}']);
    const attrs = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(Number(attrs.Attributes?.ApproximateNumberOfMessages)).toBe(0);
    expect(Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible)).toBe(0);
  });

  it('every DynamoDB request of the fanout is allowed by its IAM role (lib TABLE_ACCESS.fanout)', () => {
    expect(access.actions.size).toBeGreaterThan(1);
    for (const a of access.actions) expect(TABLE_ACCESS.fanout.actions as readonly string[], a).toContain(a);
    expect([...access.indexes]).toEqual([...TABLE_ACCESS.fanout.indexes]);
  });
});
