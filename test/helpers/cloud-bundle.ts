// Runs a Lambda bundle in a fresh `node` process (the same binary as the test run), the way
// the Lambda runtime does: import index.mjs, call `handler(event, context)`.
import { spawn, spawnSync } from 'node:child_process';

export interface FreshRun {
  /** Time to import the bundle (module load + evaluation), in ms. */
  loadMs: number;
  result: unknown;
}

const RUNNER = `
const [bundle, eventJson] = process.argv.slice(1);
const t0 = performance.now();
const mod = await import(bundle);
const loadMs = performance.now() - t0;
if (typeof mod.handler !== 'function') throw new Error('bundle exports no handler function');
const context = { functionName: 'fresh', awsRequestId: 'fresh-1', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fresh', getRemainingTimeInMillis: () => 10000 };
const event = JSON.parse(eventJson);
const result = event === null ? null : await mod.handler(event, context);
process.stdout.write(JSON.stringify({ loadMs, result }));
`;

export const FRESH_ENV: Record<string, string> = {
  TABLE_NAME: 'vigil-fresh',
  BANG_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/vigil-fresh',
  ADMIN_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vigil-fresh-abcdef',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'fresh',
  AWS_SECRET_ACCESS_KEY: 'fresh',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'WARN',
  NODE_OPTIONS: '--enable-source-maps',
};

/** Imports `bundleFile` in a new node process and invokes its handler with `event` (null: load only). */
export function runBundleFresh(bundleFile: string, event: unknown, env: Record<string, string> = FRESH_ENV): FreshRun {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', RUNNER, `file://${bundleFile}`, JSON.stringify(event)], {
    // Only what a Lambda environment would have: no inherited AWS_ENDPOINT_URL etc.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
    timeout: 30_000,
    cwd: '/',
  });
  if (r.status !== 0) throw new Error(`fresh node failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as FreshRun;
}

const SEQUENCE_RUNNER = `
const [bundle, eventsJson] = process.argv.slice(1);
const mod = await import(bundle);
const context = { functionName: 'fresh', awsRequestId: 'fresh-1', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:fresh', getRemainingTimeInMillis: () => 10000 };
const results = [];
for (const event of JSON.parse(eventsJson)) results.push(await mod.handler(event, context));
process.stdout.write(JSON.stringify(results));
`;

/**
 * Invokes the bundle's handler with each event in turn, in ONE new node process, without
 * blocking this one (servers of the test, e.g. an edge proxy, keep answering meanwhile).
 */
export function runBundleEvents(bundleFile: string, events: unknown[], env: Record<string, string>): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', SEQUENCE_RUNNER, `file://${bundleFile}`, JSON.stringify(events)], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`bundle run failed (${code}): ${err}`));
      try {
        resolve(JSON.parse(out) as unknown[]);
      } catch {
        reject(new Error(`bundle run printed no JSON: ${out.slice(0, 500)} ${err.slice(0, 2000)}`));
      }
    });
  });
}
