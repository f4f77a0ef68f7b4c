// `vigil master [--port 8787] [--data-dir .vigil-master] [--demo]`: the local master. With
// --demo, the demo agent is started by the caller's `startDemoAgent` (bin/vigil.ts passes the
// agent's): the master's code never imports the agent.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StartupError } from './embedded-store.ts';
import { type DemoFleet, LOCAL_TABLE, type LocalMaster, type LocalMasterOptions, startLocalMaster } from './master.ts';

/** Runs an agent over the demo fleet (the CLI entry provides agent/demo.ts). */
export type DemoAgentStarter = (opts: { masterUrl: string; computerId: string; token: string; instanceRoot: string }) => Promise<{
  instanceRoot: string;
  stop(): Promise<void>;
}>;

export interface MasterCommandOptions {
  startDemoAgent?: DemoAgentStarter;
}

/** The local master, and the demo agent over its demo fleet when there is one (a failed agent start stops the master). */
async function start(config: LocalMasterOptions & { log: (line: string) => void }, opts: MasterCommandOptions) {
  const master = await startLocalMaster(config);
  let stopDemo = async () => {};
  const demo: DemoFleet | null = master.demo;
  if (demo && opts.startDemoAgent) {
    try {
      const agent = await opts.startDemoAgent({ masterUrl: master.url, computerId: demo.computerId, token: demo.token, instanceRoot: join(master.dataDir, 'demo-instance') });
      config.log(`vigil master: demo agent running over ${agent.instanceRoot}`);
      stopDemo = () => agent.stop();
    } catch (err) {
      await master.stop();
      throw err;
    }
  }
  return { master, stopDemo };
}

const HELP = `usage: vigil master [--port 8787] [--data-dir .vigil-master] [--demo] [--demo-webhook URL]
                    [--dynamodb-endpoint URL [--table NAME]]

Runs the master locally: the HTTP API (and dashboard) on http://127.0.0.1:PORT, an
embedded DynamoDB-compatible store kept in the data dir, an in-process SQS-compatible
queue with its fan-out consumer, the colour sweep every 60 s, and the notification
delivery worker (channels: vigil admin channel …).

options:
  --port N                  TCP port on 127.0.0.1 (default 8787, 0 = any free port)
  --data-dir DIR            where data and the admin token are kept (default .vigil-master)
  --demo                    seed a demo software release, computer and instance tree
  --demo-webhook URL        send the events to URL: a channel 'demo' (a webhook; a Slack
                            incoming-webhook URL makes it a slack channel). Default
                            $VIGIL_DEMO_WEBHOOK
  --dynamodb-endpoint URL   use an external DynamoDB-compatible endpoint instead of the
                            embedded store (DynamoDB Local, LocalStack, or real DynamoDB,
                            e.g. https://dynamodb.eu-west-1.amazonaws.com, with the usual AWS
                            credentials and AWS_REGION; an emulator on 127.0.0.1 needs none):
                            the table is created there if missing; the data dir then keeps
                            only the admin token
  --table NAME              the table (default ${LOCAL_TABLE})
  -h, --help                show this help

VIGIL_ADMIN_TOKEN sets the admin token; otherwise one is generated once, kept in
DIR/admin-token and printed.
`;

const OPTIONS = {
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  demo: { type: 'boolean' },
  'demo-webhook': { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
  table: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** The command line as options, or the exit code when there is nothing to run (help: 0, bad usage: 2). */
function options(argv: string[]): { port: number; dataDir: string; demo: boolean; demoWebhook?: string; dynamodbEndpoint?: string; tableName?: string } | number {
  const usage = (message: string) => {
    process.stderr.write(`vigil master: ${message}\n`);
    return 2;
  };
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: false }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    return usage(`${(err as Error).message}\n\n${HELP.trimEnd()}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const port = v.port === undefined ? 8787 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || (v.port !== undefined && !/^\d+$/.test(v.port))) {
    return usage(`--port must be an integer between 0 and 65535, got '${v.port}'`);
  }
  const demoWebhook = v['demo-webhook'] ?? (process.env.VIGIL_DEMO_WEBHOOK || undefined);
  if (demoWebhook !== undefined && !/^https?:\/\/[^/\s]+/.test(demoWebhook)) {
    return usage(`--demo-webhook (or VIGIL_DEMO_WEBHOOK) must be an http:// or https:// URL, got '${demoWebhook}'`);
  }
  const endpoint = v['dynamodb-endpoint'];
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) return usage(`--dynamodb-endpoint must be an http(s) URL, got '${endpoint}'`);
  if (v.table !== undefined && !TABLE_NAME.test(v.table)) return usage(`--table must be 3-255 characters of A-Z a-z 0-9 _ . -, got '${v.table}'`);
  return {
    port,
    dataDir: v['data-dir'] ?? '.vigil-master',
    demo: !!v.demo,
    ...(demoWebhook ? { demoWebhook } : {}),
    ...(endpoint ? { dynamodbEndpoint: endpoint } : {}),
    ...(v.table ? { tableName: v.table } : {}),
  };
}

export async function main(argv: string[], opts: MasterCommandOptions = {}): Promise<number> {
  const o = options(argv);
  if (typeof o === 'number') return o;
  const { port } = o;
  // The AWS SDK warns about Node 20 on every start; the local master talks to emulators only.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  let master: LocalMaster;
  let stopDemo: () => Promise<void>;
  try {
    ({ master, stopDemo } = await start({ ...o, log }, opts));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(`vigil master: port ${port} is already in use (try --port)\n`);
      return 1;
    }
    if (e instanceof StartupError) {
      process.stderr.write(`vigil master: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return 1;
    }
    process.stderr.write(`vigil master: cannot start: ${e.stack ?? e.message}\n`);
    return 1;
  }
  const out = [
    `vigil master listening on ${master.url}`,
    `data dir: ${master.dataDir}`,
    ...(o.dynamodbEndpoint ? [`store: table ${o.tableName ?? LOCAL_TABLE} on ${o.dynamodbEndpoint}`] : []),
    `admin token: ${master.adminToken}`,
    `API: ${master.url}/v1  OpenAPI: ${master.url}/openapi.json  dashboard: ${master.url}/`,
  ];
  if (master.demo) {
    out.push(
      `demo: software release ${master.demo.softwareReleaseId}, computer ${master.demo.computerId}, instance tree ${master.demo.instanceTreeId} (${master.demo.partitionIds.join(', ')})`,
      `demo computer token file: ${master.demo.tokenFile}`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`vigil master: ${sig}, shutting down\n`);
      const stopped = stopDemo().then(() => master.stop());
      stopped.then(
        () => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolveExit(0);
        },
        (err) => {
          process.stderr.write(`vigil master: shutdown error: ${String(err)}\n`);
          resolveExit(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
