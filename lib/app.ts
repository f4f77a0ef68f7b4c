// Builds the vigil CDK app from context flags (cdk.json / `-c key=value`). bin/app.ts is the
// CLI entry; tests build the same app through this function.
import { App, type AppProps } from 'aws-cdk-lib';
import { type ReservedConcurrency, VigilStack } from './vigil-stack.ts';

export interface VigilAppOptions extends AppProps {}

function flag(app: App, key: string): string | undefined {
  const v = app.node.tryGetContext(key);
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

export function parseBoolean(key: string, v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new Error(`context ${key} must be true or false, got '${v}'`);
}

export function buildVigilApp(opts: VigilAppOptions = {}): { app: App; stack: VigilStack } {
  const app = new App(opts);
  const stackName = flag(app, 'vigil:stackName') ?? 'Vigil';
  const reserved = parseBoolean('vigil:reservedConcurrency', flag(app, 'vigil:reservedConcurrency'), true);
  const concurrency: Partial<ReservedConcurrency> = {};
  for (const fn of ['api', 'admin', 'fanout', 'sweep', 'notify'] as const) {
    const key = `vigil:${fn}ReservedConcurrency`;
    const v = flag(app, key);
    if (v === undefined) continue;
    const n = Number(v);
    if (!(Number.isInteger(n) && n > 0)) throw new Error(`context ${key} must be a positive integer, got '${v}'`);
    concurrency[fn] = n;
  }
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  const stack = new VigilStack(app, stackName, {
    description: 'vigil master: promise-based fleet monitoring (Lambda, DynamoDB, SQS, Scheduler)',
    ...(account && region ? { env: { account, region } } : {}),
    deletionProtection: parseBoolean('vigil:deletionProtection', flag(app, 'vigil:deletionProtection'), true),
    alarmEmail: flag(app, 'vigil:alarmEmail'),
    notifyEmail: flag(app, 'vigil:notifyEmail'),
    publicUrl: flag(app, 'vigil:publicUrl'),
    reservedConcurrency: reserved ? concurrency : false,
  });
  return { app, stack };
}
