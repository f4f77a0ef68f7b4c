// Helpers for integration tests that need the master's AWS resources (DynamoDB + SQS on
// the endpoints of test/helpers/global-setup.ts). Every call gets fresh, uniquely named
// resources, so test files can run in parallel.
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { tableDefinition } from '../../functions/store/table.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export function makeDynamoClient(endpoint = inject('dynamoEndpoint')): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region, credentials, maxAttempts: 3 });
}

export function makeSqsClient(endpoint = inject('sqsEndpoint')): SQSClient {
  return new SQSClient({ endpoint, region, credentials, maxAttempts: 3 });
}

/** Counts DynamoDB requests (per command name) through an SDK middleware. */
export interface RequestCounter {
  total(): number;
  byCommand(): Record<string, number>;
  reset(): void;
  /** Every command name sent since the counter was installed (reset() does not clear it). */
  seen(): string[];
}

export function countRequests(client: DynamoDBClient): RequestCounter {
  const counts: Record<string, number> = {};
  const seen = new Set<string>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName ?? 'unknown');
      counts[name] = (counts[name] ?? 0) + 1;
      seen.add(name);
      return next(args);
    },
    { step: 'finalizeRequest', name: 'vigilRequestCounter' },
  );
  return {
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    byCommand: () => ({ ...counts }),
    reset: () => {
      for (const k of Object.keys(counts)) delete counts[k];
    },
    seen: () => [...seen].sort(),
  };
}

export async function createTable(client: DynamoDBClient, tableName = uniqueName('vigil')): Promise<string> {
  await client.send(new CreateTableCommand(tableDefinition(tableName)));
  return tableName;
}

export async function createQueue(client: SQSClient, queueName = uniqueName('vigil-bangs')): Promise<string> {
  const r = await client.send(new CreateQueueCommand({ QueueName: queueName, Attributes: { VisibilityTimeout: '30' } }));
  if (!r.QueueUrl) throw new Error('CreateQueue returned no QueueUrl');
  return r.QueueUrl;
}

export interface AwsFixture {
  dynamo: DynamoDBClient;
  sqs: SQSClient;
  tableName: string;
  queueUrl: string;
  counter: RequestCounter;
  /** Delete the table and queue and close the clients. */
  dispose(): Promise<void>;
}

/** A fresh table and queue on the harness endpoints, with a request counter. */
export async function createAwsFixture(): Promise<AwsFixture> {
  const dynamo = makeDynamoClient();
  const counter = countRequests(dynamo);
  const sqs = makeSqsClient();
  const tableName = await createTable(dynamo);
  const queueUrl = await createQueue(sqs);
  counter.reset();
  return {
    dynamo,
    sqs,
    tableName,
    queueUrl,
    counter,
    async dispose() {
      await dynamo.send(new DeleteTableCommand({ TableName: tableName })).catch(() => {});
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {});
      dynamo.destroy();
      sqs.destroy();
    },
  };
}
