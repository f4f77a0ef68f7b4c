// A master app wired to a fresh table + queue on the harness endpoints, with a settable
// clock and a DynamoDB request counter. For integration tests of any helper.
import { type AppDeps, createApp } from '../../functions/app.ts';
import { createVigilClient, type RawResponse, type VigilClient } from '../../protocol/client.ts';
import { ErrorBody } from '../../protocol/index.ts';
import { createSqsBangQueue } from '../../functions/queue.ts';
import type { BangQueue } from '../../functions/services/deps.ts';
import { createDynamoStore } from '../../functions/store/dynamo.ts';
import type { Store } from '../../functions/store/types.ts';
import { type AwsFixture, createAwsFixture } from './aws.ts';

export interface TestClock {
  now: () => Date;
  set(d: Date | string): void;
  advance(ms: number): void;
}

export function testClock(start: Date | string = '2025-06-01T12:00:00.000Z'): TestClock {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    set: (d) => {
      t = new Date(d).getTime();
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface TestMaster {
  app: ReturnType<typeof createApp>;
  deps: AppDeps;
  store: Store;
  aws: AwsFixture;
  clock: TestClock;
  adminToken: string;
  /** The typed client through app.request(), with the admin token. */
  api: VigilClient;
  /** The typed client with another token (a computer's; null = none). */
  as(token: string | null): VigilClient;
  /** Raw JSON request through app.request() (exact statuses, bad input); token defaults to the admin token (null = none). */
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<RawResponse>;
  dispose(): Promise<void>;
}

/** The `{error, message, details?}` of an error answer (throws when it is not one). */
export function errorBody(r: { body: unknown }): ErrorBody {
  return ErrorBody.parse(r.body);
}

export async function createTestMaster(
  opts: { clock?: TestClock; dashboard?: boolean; queue?: BangQueue; historyTtlSeconds?: number; logError?: AppDeps['logError'] } = {},
): Promise<TestMaster> {
  const aws = await createAwsFixture();
  const clock = opts.clock ?? testClock();
  const store = createDynamoStore({ client: aws.dynamo, tableName: aws.tableName });
  const adminToken = 'test-admin-token';
  const deps: AppDeps = {
    store,
    queue: opts.queue ?? createSqsBangQueue({ client: aws.sqs, queueUrl: aws.queueUrl }),
    now: clock.now,
    adminToken: () => adminToken,
    dashboard: opts.dashboard ?? true,
    ...(opts.historyTtlSeconds === undefined ? {} : { historyTtlSeconds: opts.historyTtlSeconds }),
    ...(opts.logError === undefined ? {} : { logError: opts.logError }),
  };
  const app = createApp(deps);
  const api = createVigilClient({ fetch: (path, init) => app.request(path, init), token: adminToken });
  return {
    app,
    deps,
    store,
    aws,
    clock,
    adminToken,
    api,
    as: (token) => api.withToken(token),
    call: (method, path, body, token = adminToken) => api.raw(method, path, { body, token }),
    dispose: () => aws.dispose(),
  };
}
