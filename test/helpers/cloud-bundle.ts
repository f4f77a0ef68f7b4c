// Runs a Lambda bundle in a fresh `node` process (the same binary as the test run), the way
// the Lambda runtime does: import index.mjs, call `handler(event, context)`.
import { spawnSync } from 'node:child_process';

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
