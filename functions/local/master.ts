// The embedded local master: the same Hono app, services and bang consumer as in AWS, in one
// process, on dynalite (persisted in the data dir, surviving a full disk: embedded-store.ts)
// and fauxqs (in memory, with a dead-letter queue after the same receive limit as the
// stack's). It does not run an agent: the CLI (bin/vigil.ts) starts the demo agent next to it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createApp } from '../app.ts';
import { newAdminToken } from '../auth.ts';
import { createSqsBangQueue, pollBangQueue } from '../queue.ts';
import { BANG_MAX_RECEIVES } from '../services/bang-message.ts';
import type { ServiceDeps } from '../services/deps.ts';
import { consumeBangMessage, replayPendingBangs } from '../services/fanout.ts';
import { runSweep } from '../services/sweep.ts';
import { createDynamoStore, migrateTable } from '../store/dynamo.ts';
import { isStoreUnavailable } from '../store/errors.ts';
import type { Store } from '../store/types.ts';
import { type DemoFleet, seedDemo } from './demo-fleet.ts';
import { checkDataDir, StartupError, startEmbeddedStore } from './embedded-store.ts';
import { ensureTable, externalDynamoClient, tableExists, tableLayout } from './external-store.ts';
import { createMasterServer } from './http-server.ts';
import { type DeliveryLoop, ensureDemoChannel, startDeliveryLoop } from './notify-loop.ts';

export type { DemoFleet };

export interface LocalMasterOptions {
  /** TCP port on 127.0.0.1 (default 8787; 0 = any free port). */
  port?: number;
  host?: string;
  /** Where dynalite keeps its data and the admin token is persisted (default .vigil-master). */
  dataDir?: string;
  /** Admin token; default VIGIL_ADMIN_TOKEN, else generated once and kept in the data dir. */
  adminToken?: string;
  /** Seed a demo software release, computer and instance tree of three partitions. */
  demo?: boolean;
  /** Sweep period (default 60 s). */
  sweepIntervalMs?: number;
  /** Local TTL emulation period (default 10 min). */
  expireIntervalMs?: number;
  /** Visibility timeout of the bang queue: a failed message comes back after it (default 30 s). */
  bangVisibilityTimeoutSeconds?: number;
  /** The master clock (default the system clock). */
  now?: () => Date;
  /** A demo webhook channel to this URL (`--demo-webhook`, VIGIL_DEMO_WEBHOOK). */
  demoWebhook?: string;
  /**
   * An external DynamoDB-compatible endpoint (DynamoDB Local, LocalStack, real DynamoDB with
   * the usual AWS credentials) instead of the embedded store: the table is created there if
   * missing. The data dir then keeps only the admin token (and the demo token file).
   */
  dynamodbEndpoint?: string;
  /** The table (default vigil-v2). */
  tableName?: string;
  log?: (line: string) => void;
}

export interface LocalMaster {
  url: string;
  port: number;
  adminToken: string;
  dataDir: string;
  store: Store;
  demo: DemoFleet | null;
  /** Run one sweep now (tests). */
  sweep(): Promise<void>;
  /** Run the local TTL emulation now (tests): the number of expired items deleted. */
  expire(): Promise<number>;
  /** The notification delivery worker (in process). */
  notifications: DeliveryLoop;
  /** The bang queue (fauxqs, credentials `local`/`local`) and its dead-letter queue. */
  bangQueue: { endpoint: string; url: string; deadLetterUrl: string };
  stop(): Promise<void>;
}

type Stops = (() => Promise<void> | void)[];

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';
/** The table of the current store layout (issue 12). */
export const LOCAL_TABLE = 'vigil-v2';
/** The embedded store's table of the layout before issue 12: migrated at start, then dropped. */
const LEGACY_LOCAL_TABLE = 'vigil';
const QUEUE = 'vigil-bangs';
const DEAD_LETTER_QUEUE = 'vigil-bangs-dlq';

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => {
      server.off('error', rej);
      res((server.address() as AddressInfo).port);
    });
  });
}

function loadAdminToken(dataDir: string, explicit?: string): string {
  if (explicit) return explicit;
  const env = process.env.VIGIL_ADMIN_TOKEN;
  if (env) return env;
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) {
    const t = readFileSync(file, 'utf8').trim();
    if (t) return t;
  }
  const t = newAdminToken();
  writeFileSync(file, `${t}\n`, { mode: 0o600 });
  return t;
}

/**
 * The store: on an external endpoint, or dynalite on disk in the data dir (embedded-store.ts);
 * the table created if missing (an embedded store of the layout before issue 12 migrated once).
 */
async function startStore(opts: LocalMasterOptions, dataDir: string, now: () => Date, log: (line: string) => void, stops: Stops): Promise<Store> {
  const tableName = opts.tableName ?? LOCAL_TABLE;
  if (opts.dynamodbEndpoint) {
    const dynamo = externalDynamoClient(opts.dynamodbEndpoint);
    stops.push(() => dynamo.destroy());
    await ensureTable(dynamo, tableName, opts.dynamodbEndpoint, log);
    return createDynamoStore({ client: dynamo, tableName });
  }
  const embedded = await startEmbeddedStore({ dataDir, log });
  stops.push(() => embedded.close());
  const dynamo = new DynamoDBClient({ endpoint: `http://127.0.0.1:${embedded.port}`, region, credentials, maxAttempts: 3 });
  stops.push(() => dynamo.destroy());
  await ensureTable(dynamo, tableName, 'the embedded store', log);
  if (tableName === LOCAL_TABLE && (await tableExists(dynamo, LEGACY_LOCAL_TABLE)) && (await tableLayout(dynamo, LEGACY_LOCAL_TABLE)) === 'v1') {
    log(`vigil master: moving the data of ${dataDir} to the store layout of issue 12 (once)`);
    const r = await migrateTable(dynamo, LEGACY_LOCAL_TABLE, LOCAL_TABLE, { now: now().toISOString() });
    log(`vigil master: migrated ${r.computers} computers, ${r.partitions} partitions, ${r.reports} reports, ${r.bangs} bangs`);
    await dynamo.send(new DeleteTableCommand({ TableName: LEGACY_LOCAL_TABLE }));
  }
  return createDynamoStore({ client: dynamo, tableName });
}

/** fauxqs in memory: the bang queue, dead-lettering after BANG_MAX_RECEIVES receives like the stack's. */
async function startQueue(visibilityTimeoutSeconds: number, stops: Stops): Promise<{ sqs: SQSClient; endpoint: string; queueUrl: string; deadLetterUrl: string }> {
  const { startFauxqs } = await import('fauxqs');
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  stops.push(() => fauxqs.stop());
  const sqs = new SQSClient({ endpoint: fauxqs.address, region, credentials, maxAttempts: 3 });
  stops.push(() => sqs.destroy());
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: DEAD_LETTER_QUEUE }));
  if (!dlq.QueueUrl) throw new Error('fauxqs returned no queue URL');
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  const q = await sqs.send(
    new CreateQueueCommand({
      QueueName: QUEUE,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: BANG_MAX_RECEIVES }),
      },
    }),
  );
  if (!q.QueueUrl) throw new Error('fauxqs returned no queue URL');
  return { sqs, endpoint: fauxqs.address, queueUrl: q.QueueUrl, deadLetterUrl: dlq.QueueUrl };
}

/** The fan-out consumer: the Lambda handler's code (consumeBangMessage) behind a long-poll loop. */
function startConsumer(deps: ServiceDeps, sqs: SQSClient, queueUrl: string, log: (line: string) => void, stops: Stops): void {
  const abort = new AbortController();
  const poller = pollBangQueue({
    client: sqs,
    queueUrl,
    signal: abort.signal,
    waitTimeSeconds: 1,
    handle: async (body) => {
      const { message: m, result: r } = await consumeBangMessage(deps, body);
      if (!r.skipped) log(`vigil master: bang ${m.bangId} from ${m.partitionId} fanned out to ${r.total} partition(s) of ${m.instanceTreeId}`);
    },
    onError: (e) => log(`vigil master: fan-out error (the message stays queued, dead-lettered after ${BANG_MAX_RECEIVES} receives): ${e instanceof Error ? e.message : String(e)}`),
  });
  stops.push(async () => {
    abort.abort();
    await poller;
  });
}

/** The minute sweep and the local TTL emulation (dynalite has no TTL), on timers. */
function startTimers(store: Store, opts: LocalMasterOptions, now: () => Date, log: (line: string) => void, stops: Stops) {
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = async () => {
    await sweeping;
    sweeping = runSweep({ store }, now()).then(
      (r) => {
        for (const t of r.transitions) log(`vigil master: ${t.type} ${t.id} ${t.from} → ${t.to} (${t.reason})`);
      },
      (e) => log(`vigil master: sweep failed: ${String(e)}`),
    );
    await sweeping;
  };
  const expire = async (): Promise<number> => {
    try {
      return await store.expireItems(Math.floor(now().getTime() / 1000));
    } catch (e) {
      log(`vigil master: expiry failed: ${String(e)}`);
      return 0;
    }
  };
  const sweepTimer = setInterval(() => void sweep(), opts.sweepIntervalMs ?? 60_000);
  const expireTimer = setInterval(() => void expire(), opts.expireIntervalMs ?? 600_000);
  stops.push(async () => {
    clearInterval(sweepTimer);
    clearInterval(expireTimer);
    await sweeping;
  });
  return { sweep, expire };
}

/** The HTTP server (http-server.ts: it reads every body, so an error answer keeps the connection usable). */
async function serveHttp(fetch: Parameters<typeof createMasterServer>[0]['fetch'], port: number, host: string, stops: Stops): Promise<number> {
  const server = createMasterServer({ fetch });
  const bound = await listen(server, port, host);
  stops.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return bound;
}

export async function startLocalMaster(opts: LocalMasterOptions = {}): Promise<LocalMaster> {
  const dataDir = resolve(opts.dataDir ?? '.vigil-master');
  // a directory, writable, not full: else one StartupError line
  checkDataDir(dataDir);
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => {});
  let adminToken: string;
  try {
    adminToken = loadAdminToken(dataDir, opts.adminToken);
  } catch (err) {
    throw new StartupError(`data dir ${dataDir}: cannot keep the admin token: ${(err as Error).message}`);
  }
  const stops: Stops = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (err) {
        log(`vigil master: error while stopping: ${String(err)}`);
      }
    }
  };
  try {
    const store = await startStore(opts, dataDir, now, log, stops);
    const { sqs, endpoint, queueUrl, deadLetterUrl } = await startQueue(opts.bangVisibilityTimeoutSeconds ?? 30, stops);
    let loop: DeliveryLoop | null = null;
    // links point at this master; publishes wake the delivery loop (started once serving)
    const notify = { baseUrl: `http://${opts.host ?? '127.0.0.1'}:${opts.port ?? 8787}`, wake: (eventIds: string[]) => loop?.wake(eventIds) };
    const deps: ServiceDeps = {
      store,
      queue: createSqsBangQueue({ client: sqs, queueUrl }),
      now,
      logError: (m, e) => log(`${m}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
      notify,
    };
    // the TCP peer, for the failure limiter (X-Forwarded-* headers are not trusted)
    const app = createApp({ ...deps, adminToken: () => adminToken, clientAddress: (c) => getConnInfo(c).remote.address });
    startConsumer(deps, sqs, queueUrl, log, stops);
    // The queue lives in memory: bangs accepted before a restart but not fanned out yet are
    // fanned out again now (idempotent).
    await replayPendingBangs(deps);
    const demo = opts.demo ? await seedDemo(deps, dataDir) : null;
    const { sweep, expire } = startTimers(store, opts, now, log, stops);
    await expire();
    await sweep();
    const host = opts.host ?? '127.0.0.1';
    const port = await serveHttp(app.fetch, opts.port ?? 8787, host, stops);
    notify.baseUrl = `http://${host}:${port}`;
    if (opts.demoWebhook) await ensureDemoChannel(deps, opts.demoWebhook, log);
    const notifications = startDeliveryLoop({ deps, log });
    loop = notifications;
    stops.push(() => notifications.stop());
    let stopped: Promise<void> | null = null;
    return {
      url: `http://${host}:${port}`,
      port,
      adminToken,
      dataDir,
      store,
      demo,
      sweep,
      expire,
      notifications,
      bangQueue: { endpoint, url: queueUrl, deadLetterUrl },
      stop: () => {
        stopped ??= stopAll();
        return stopped;
      },
    };
  } catch (err) {
    await stopAll();
    // the store failing while starting (e.g. a disk that filled up): one line too
    if (isStoreUnavailable(err)) throw new StartupError(`data dir ${dataDir}: the store failed while starting: ${(err as Error).message}`);
    throw err;
  }
}
