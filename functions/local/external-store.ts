// The table of the local master: on the embedded store, or on an external DynamoDB-compatible
// endpoint (`vigil master --dynamodb-endpoint URL`: DynamoDB Local, LocalStack, real DynamoDB
// with the usual AWS credentials). Created from tableDefinition if missing, waited for until it
// and its indexes are ACTIVE; a table of another layout, an unreachable endpoint or missing
// credentials are one StartupError line.
import { CreateTableCommand, DescribeTableCommand, type DescribeTableCommandOutput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isStoreUnavailable } from '../store/errors.ts';
import { GSI_PARTITIONS, legacy, tableDefinition } from '../store/table.ts';
import { StartupError } from './embedded-store.ts';

/** How long a new table may take to become ACTIVE (real DynamoDB: tens of seconds with its indexes). */
const ACTIVE_WAIT_MS = 5 * 60_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * A client of `endpoint`. The region and credentials are the AWS SDK's usual ones
 * (AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, ...); a loopback endpoint (an emulator) with no
 * credentials configured gets dummy ones, which emulators accept.
 */
export function externalDynamoClient(endpoint: string, env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  const host = new URL(endpoint).hostname;
  const configured = !!(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
  return new DynamoDBClient({
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    maxAttempts: 3,
    ...(LOOPBACK.has(host) && !configured ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
}

async function describe(client: DynamoDBClient, name: string): Promise<DescribeTableCommandOutput['Table'] | null> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table ?? null;
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') return null;
    throw err;
  }
}

export async function tableExists(client: DynamoDBClient, name: string): Promise<boolean> {
  return (await describe(client, name)) !== null;
}

/** v2: the current layout (its indexes); v1: the layout before issue 12; other: neither. */
export async function tableLayout(client: DynamoDBClient, name: string): Promise<'v2' | 'v1' | 'other' | 'missing'> {
  const t = await describe(client, name);
  if (!t) return 'missing';
  const indexes = new Set((t.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  const expected = (tableDefinition(name).GlobalSecondaryIndexes ?? []).map((g) => g.IndexName);
  if (expected.every((n) => indexes.has(n))) return 'v2';
  const v1 = (legacy.tableDefinition(name).GlobalSecondaryIndexes ?? []).map((g) => g.IndexName);
  return v1.every((n) => indexes.has(n)) ? 'v1' : 'other';
}

function startupError(where: string, err: unknown): StartupError {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  if (e.name === 'CredentialsProviderError') return new StartupError(`no AWS credentials for the DynamoDB endpoint ${where} (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY): ${e.message}`);
  if (isStoreUnavailable(err) || e.code || e.cause?.code) {
    return new StartupError(`cannot reach the DynamoDB endpoint ${where}: ${e.code ?? e.cause?.code ?? e.name ?? ''} ${e.message ?? ''}`.trim());
  }
  return new StartupError(`the DynamoDB endpoint ${where} refused: ${e.name ?? 'error'}: ${e.message ?? String(err)}`);
}

/** The table, created if missing and waited for; a table of another layout is refused. */
export async function ensureTable(client: DynamoDBClient, name: string, where: string, log: (line: string) => void): Promise<void> {
  let layout: Awaited<ReturnType<typeof tableLayout>>;
  try {
    layout = await tableLayout(client, name);
    if (layout === 'missing') {
      await client.send(new CreateTableCommand(tableDefinition(name)));
      log(`vigil master: created table ${name} on ${where}`);
      layout = 'v2';
    }
  } catch (err) {
    throw startupError(where, err);
  }
  if (layout !== 'v2') {
    throw new StartupError(
      `table ${name} on ${where} is not of the current store layout (no index ${GSI_PARTITIONS})` +
        (layout === 'v1' ? `: copy it into a new table with 'vigil migrate --from ${name} --to NEW_TABLE' and start with --table NEW_TABLE (docs/deploy.md)` : ''),
    );
  }
  const deadline = Date.now() + ACTIVE_WAIT_MS;
  for (;;) {
    const t = await describe(client, name).catch((err: unknown) => {
      throw startupError(where, err);
    });
    if (t?.TableStatus === 'ACTIVE' && (t.GlobalSecondaryIndexes ?? []).every((g) => !g.IndexStatus || g.IndexStatus === 'ACTIVE')) return;
    if (Date.now() > deadline) throw new StartupError(`table ${name} on ${where} is not ACTIVE after ${ACTIVE_WAIT_MS / 60_000} min (${t?.TableStatus ?? 'missing'})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
