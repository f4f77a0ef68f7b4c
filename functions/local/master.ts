// The embedded local master: the same Hono app, fan-out and sweep as in AWS, in one
// process, on dynalite (persisted in the data dir) and fauxqs (in memory).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createApp } from '../app.ts';
import { newAdminToken, newComputerToken, sha256Hex } from '../auth.ts';
import { fanOutBang } from '../fanout.ts';
import { bangReason, createSqsBangQueue, pollBangQueue } from '../queue.ts';
import { createDynamoStore } from '../store/dynamo.ts';
import { tableDefinition } from '../store/table.ts';
import type { Store } from '../store/types.ts';
import { runSweep } from '../sweep.ts';
import { isStoreUnavailable } from '../store/errors.ts';
import { checkDataDir, StartupError, startEmbeddedStore } from './embedded-store.ts';
import { createMasterServer } from './http-server.ts';

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
  /** With demo: also run the demo agent (agent/demo.ts) over examples/demo (default true). */
  demoAgent?: boolean;
  /** Sweep period (default 60 s). */
  sweepIntervalMs?: number;
  /** Local TTL emulation period (default 10 min). */
  expireIntervalMs?: number;
  /** The master clock (default the system clock). */
  now?: () => Date;
  log?: (line: string) => void;
}

export interface DemoFleet {
  softwareReleaseId: string;
  computerId: string;
  instanceTreeId: string;
  partitionIds: string[];
  /** File holding the demo computer's token. */
  tokenFile: string;
  token: string;
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
  stop(): Promise<void>;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';
const TABLE = 'vigil';
const QUEUE = 'vigil-bangs';

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

async function ensureTable(client: DynamoDBClient, name: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException) && (err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
  }
  await client.send(new CreateTableCommand(tableDefinition(name)));
  for (let i = 0; i < 100; i++) {
    const d = await client.send(new DescribeTableCommand({ TableName: name }));
    if (d.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function seedDemo(store: Store, dataDir: string, now: Date): Promise<DemoFleet> {
  const iso = now.toISOString();
  const demo: DemoFleet = {
    softwareReleaseId: 'demo-sr',
    computerId: 'demo-computer',
    instanceTreeId: 'demo-tree',
    partitionIds: ['demo-web', 'demo-db', 'demo-worker'],
    tokenFile: join(dataDir, 'demo-computer.token'),
    token: '',
  };
  const existingSr = await store.getSoftwareRelease(demo.softwareReleaseId);
  if (!existingSr) {
    await store.putSoftwareRelease(
      { softwareReleaseId: demo.softwareReleaseId, url: 'https://example.com/software/demo/software.cfg', periodicitySeconds: 3600, bangQuotaPerDay: 24 },
      iso,
    );
  }
  // A fresh token at every start (written to the token file): the demo agent uses it.
  const computer = await store.getComputer(demo.computerId);
  const token = newComputerToken(demo.computerId);
  if (!computer) await store.createComputer({ computerId: demo.computerId, tokenHash: sha256Hex(token), instantiationFrequencySeconds: 86400 }, iso);
  else await store.setComputerToken(demo.computerId, sha256Hex(token), iso);
  writeFileSync(demo.tokenFile, `${token}\n`, { mode: 0o600 });
  demo.token = token;
  for (const partitionId of demo.partitionIds) {
    const p = await store.getPartition(partitionId);
    if (!p) {
      await store.putPartition(
        { partitionId, computerId: demo.computerId, instanceTreeId: demo.instanceTreeId, softwareReleaseId: demo.softwareReleaseId },
        iso,
      );
    }
  }
  return demo;
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
  const stops: (() => Promise<void> | void)[] = [];
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
    // DynamoDB-compatible store on disk (survives a full disk: functions/local/embedded-store.ts).
    const embedded = await startEmbeddedStore({ dataDir, log });
    stops.push(() => embedded.close());
    const dynamo = new DynamoDBClient({ endpoint: `http://127.0.0.1:${embedded.port}`, region, credentials, maxAttempts: 3 });
    stops.push(() => dynamo.destroy());
    await ensureTable(dynamo, TABLE);
    const store = createDynamoStore({ client: dynamo, tableName: TABLE });

    // SQS-compatible queue in memory.
    const { startFauxqs } = await import('fauxqs');
    const fauxqs = await startFauxqs({ port: 0, logger: false });
    stops.push(() => fauxqs.stop());
    const sqs = new SQSClient({ endpoint: fauxqs.address, region, credentials, maxAttempts: 3 });
    stops.push(() => sqs.destroy());
    const q = await sqs.send(new CreateQueueCommand({ QueueName: QUEUE, Attributes: { VisibilityTimeout: '30' } }));
    const queueUrl = q.QueueUrl;
    if (!queueUrl) throw new Error('fauxqs returned no queue URL');

    const app = createApp({
      store,
      queue: createSqsBangQueue({ client: sqs, queueUrl }),
      now,
      adminToken: () => adminToken,
      // the TCP peer (X-Forwarded-* headers are not trusted)
      clientAddress: (c) => getConnInfo(c).remote.address,
      logError: (m, e) => log(`${m}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
    });

    // Fan-out consumer.
    const abort = new AbortController();
    const fanOutDeps = { store, now };
    const poller = pollBangQueue({
      client: sqs,
      queueUrl,
      signal: abort.signal,
      waitTimeSeconds: 1,
      handle: async (m) => {
        const r = await fanOutBang(fanOutDeps, m);
        if (!r.skipped) log(`vigil master: bang ${m.bangId} from ${m.partitionId} fanned out to ${r.total} partition(s) of ${m.instanceTreeId}`);
      },
      onError: (e) => log(`vigil master: fan-out error: ${e instanceof Error ? e.message : String(e)}`),
    });
    stops.push(async () => {
      abort.abort();
      await poller;
    });

    // The queue lives in memory: bangs accepted before a restart but not fanned out yet
    // are fanned out again now (idempotent).
    const pending = (await store.listBangs({}, 1000)).filter((b) => b.accepted && b.fanOut === 'pending');
    for (const b of pending) {
      await fanOutBang(fanOutDeps, {
        bangId: b.bangId,
        partitionId: b.partitionId,
        computerId: b.computerId,
        instanceTreeId: b.instanceTreeId,
        requestedAt: b.createdAt,
        reason: bangReason(b),
      });
    }

    const demo = opts.demo ? await seedDemo(store, dataDir, now()) : null;

    // Minute sweep and local TTL emulation (dynalite has no TTL).
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
    await expire();
    await sweep();

    // HTTP.
    const host = opts.host ?? '127.0.0.1';
    const server = createMasterServer({ fetch: app.fetch });
    const port = await listen(server, opts.port ?? 8787, host);
    stops.push(
      () =>
        new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
    );
    const url = `http://${host}:${port}`;
    if (demo && opts.demoAgent !== false) {
      const { startDemoAgent } = await import('../../agent/demo.ts');
      const agent = await startDemoAgent({ masterUrl: url, computerId: demo.computerId, token: demo.token, instanceRoot: join(dataDir, 'demo-instance') });
      stops.push(() => agent.stop());
      log(`vigil master: demo agent running over ${agent.instanceRoot}`);
    }
    let stopped: Promise<void> | null = null;
    return {
      url,
      port,
      adminToken,
      dataDir,
      store,
      demo,
      sweep,
      expire,
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

