// `vigil master [--port 8787] [--data-dir .vigil-master] [--demo]`: the local master.
import { parseArgs } from 'node:util';
import { StartupError } from './embedded-store.ts';
import { startLocalMaster } from './master.ts';

const HELP = `usage: vigil master [--port 8787] [--data-dir .vigil-master] [--demo]

Runs the master locally: the HTTP API (and dashboard) on http://127.0.0.1:PORT, an
embedded DynamoDB-compatible store kept in the data dir, an in-process SQS-compatible
queue with its fan-out consumer, and the colour sweep every 60 s.

options:
  --port N          TCP port on 127.0.0.1 (default 8787, 0 = any free port)
  --data-dir DIR    where data and the admin token are kept (default .vigil-master)
  --demo            seed a demo software release, computer and instance tree
  -h, --help        show this help

VIGIL_ADMIN_TOKEN sets the admin token; otherwise one is generated once, kept in
DIR/admin-token and printed.
`;

export async function main(argv: string[]): Promise<number> {
  let values: { port?: string; 'data-dir'?: string; demo?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        demo: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`vigil master: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const port = values.port === undefined ? 8787 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || (values.port !== undefined && !/^\d+$/.test(values.port))) {
    process.stderr.write(`vigil master: --port must be an integer between 0 and 65535, got '${values.port}'\n`);
    return 2;
  }
  // The AWS SDK warns about Node 20 on every start; the local master talks to emulators only.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  let master: Awaited<ReturnType<typeof startLocalMaster>>;
  try {
    master = await startLocalMaster({ port, dataDir: values['data-dir'] ?? '.vigil-master', demo: !!values.demo, log });
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
      master.stop().then(
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
