// What the three Lambda entries share: configuration from the environment, AWS SDK clients,
// Powertools logger and metrics. Clients take their endpoints from the SDK's own
// environment variables (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB, ...), which is how the
// same bundles run against LocalStack.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { AppDeps } from '../app.ts';
import { lambdaClientAddress } from '../limiter.ts';
import { createSqsNotifyWake } from '../notify-queue.ts';
import { createSqsBangQueue } from '../queue.ts';
import { DEFAULT_BASE_URL, type NotifyDeps } from '../services/notify-deps.ts';
import { createDynamoStore } from '../store/dynamo.ts';
import type { Store } from '../store/types.ts';
import { cachedSecret, secretsManagerFetcher } from './secret.ts';

export type Env = Record<string, string | undefined>;

/** A required environment variable; throws naming it when it is missing or empty. */
export function requireEnv(env: Env, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`vigil: environment variable ${name} is not set`);
  return v;
}

export interface Observability {
  logger: Logger;
  metrics: Metrics;
}

/** Logger and metrics of one function (service name from POWERTOOLS_SERVICE_NAME). */
export function createObservability(service: string): Observability {
  return {
    logger: new Logger({ serviceName: service }),
    metrics: new Metrics({ namespace: 'Vigil', serviceName: service }),
  };
}

export interface StoreClients {
  dynamo: DynamoDBClient;
}
export interface ApiClients extends StoreClients {
  sqs: SQSClient;
  secrets: SecretsManagerClient;
}

export function createDynamoClient(): DynamoDBClient {
  return new DynamoDBClient({});
}

/**
 * The SQS client. By default the SDK sends each call to the host of its QueueUrl
 * (`useQueueUrlAsEndpoint`), which would bypass AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL: with
 * an endpoint set (LocalStack's single edge port, an emulator), the endpoint wins.
 */
export function createSqsClient(env: Env = process.env): SQSClient {
  const endpointSet = !!(env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL);
  return new SQSClient({ useQueueUrlAsEndpoint: !endpointSet });
}

export function createApiClients(env: Env = process.env): ApiClients {
  return { dynamo: createDynamoClient(), sqs: createSqsClient(env), secrets: new SecretsManagerClient({}) };
}

export function storeFromEnv(env: Env, clients: StoreClients): Store {
  return createDynamoStore({ client: clients.dynamo, tableName: requireEnv(env, 'TABLE_NAME') });
}

/**
 * Notifications of a function that publishes events: dashboard links to VIGIL_PUBLIC_URL
 * (the admin URL; unset on the admin function itself, which takes its own host from the
 * request: ''), the notify queue woken after a publish (NOTIFY_QUEUE_URL), and the
 * EventBridge pseudo-channel when EVENT_BUS_NAME is set.
 */
export function notifyDepsFromEnv(env: Env, sqs: SQSClient, fromRequest = false): NotifyDeps {
  const queueUrl = env.NOTIFY_QUEUE_URL;
  const wake = queueUrl ? createSqsNotifyWake({ client: sqs, queueUrl }) : null;
  return {
    baseUrl: env.VIGIL_PUBLIC_URL || (fromRequest ? '' : DEFAULT_BASE_URL),
    ...(wake ? { wake: (eventIds: string[]) => wake(eventIds) } : {}),
    eventBus: !!env.EVENT_BUS_NAME,
  };
}

/**
 * The api function's AppDeps: DynamoDB store (TABLE_NAME), SQS bang queue (BANG_QUEUE_URL),
 * admin token from Secrets Manager (ADMIN_TOKEN_SECRET_ARN, cached 5 min), the real clock.
 */
export function apiDepsFromEnv(env: Env, clients: ApiClients, logger: Logger): AppDeps {
  const secretArn = requireEnv(env, 'ADMIN_TOKEN_SECRET_ARN');
  return {
    store: storeFromEnv(env, clients),
    queue: createSqsBangQueue({ client: clients.sqs, queueUrl: requireEnv(env, 'BANG_QUEUE_URL') }),
    now: () => new Date(),
    adminToken: cachedSecret(secretsManagerFetcher(clients.secrets, secretArn), {
      onStale: (err) => logger.warn('admin token refresh failed, serving the cached value', { error: err as Error }),
    }),
    logError: (message, err) => logger.error(message, { error: err as Error }),
    // the event's source IP (the function URL's peer), for the failure limiter
    clientAddress: lambdaClientAddress,
    notify: notifyDepsFromEnv(env, clients.sqs, true),
  };
}
