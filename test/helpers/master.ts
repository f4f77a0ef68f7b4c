// A master app wired to a fresh table + queue on the harness endpoints, with a settable
// clock and a DynamoDB request counter. For integration tests of any helper.
import { type AppDeps, createApp } from '../../functions/app.ts';
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
  /** JSON request through app.request(); token defaults to the admin token (null = none). */
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any; headers: Headers }>;
  dispose(): Promise<void>;
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
  return {
    app,
    deps,
    store,
    aws,
    clock,
    adminToken,
    async call(method, path, body, token = adminToken) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let payload: string | undefined;
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = typeof body === 'string' ? body : JSON.stringify(body);
      }
      const res = await app.request(path, { method, headers, body: payload });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    dispose: () => aws.dispose(),
  };
}
