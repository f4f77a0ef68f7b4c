// `vigil migrate --from OLD --to NEW [--dynamodb-endpoint URL]`: copies a table of the store
// layout before issue 12 into a table of the current layout (created if missing), through the
// AWS SDK with the usual credentials (docs/deploy.md "Moving to the store layout of issue 12").
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseArgs } from 'node:util';
import { migrateTable } from '../store/dynamo.ts';
import { StartupError } from './embedded-store.ts';
import { ensureTable, externalDynamoClient, tableLayout } from './external-store.ts';

const HELP = `usage: vigil migrate --from TABLE --to TABLE [--dynamodb-endpoint URL] [--no-history]

Copies every item of a vigil table of the store layout before issue 12 (indexes byTree,
byKind, sweep, bySr) into a table of the current layout, created if missing: computers
(their tokens keep working), software releases, partitions (their last report, crimes,
reprocess flags), bangs, quota counters, sessions and the promise history (regrouped into
one item per report). The old table is only read. Running it again rewrites the same items.

options:
  --from TABLE              the table of the old layout
  --to TABLE                the table to fill (the stack's new table)
  --dynamodb-endpoint URL   an endpoint (DynamoDB Local, LocalStack); default: AWS, with the
                            usual credentials and AWS_REGION
  --no-history              do not copy the promise history (7 days of it)
  -h, --help                show this help
`;

export async function main(argv: string[]): Promise<number> {
  let values: { from?: string; to?: string; 'dynamodb-endpoint'?: string; 'no-history'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { from: { type: 'string' }, to: { type: 'string' }, 'dynamodb-endpoint': { type: 'string' }, 'no-history': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`vigil migrate: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.from || !values.to || values.from === values.to) {
    process.stderr.write(`vigil migrate: --from and --to (two different tables) are needed\n\n${HELP}`);
    return 2;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = values['dynamodb-endpoint'];
  const where = endpoint ?? 'AWS';
  const client = endpoint ? externalDynamoClient(endpoint) : new DynamoDBClient({});
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const layout = await tableLayout(client, values.from).catch(() => 'missing' as const);
    if (layout !== 'v1') throw new StartupError(`table ${values.from} on ${where} is ${layout === 'missing' ? 'not there' : `not of the layout before issue 12 (${layout})`}`);
    await ensureTable(client, values.to, where, log);
    const r = await migrateTable(client, values.from, values.to, { now: new Date().toISOString(), history: !values['no-history'], log });
    process.stdout.write(`${JSON.stringify(r)}\n`);
    log(`vigil migrate: ${values.from} → ${values.to} done: ${r.computers} computers, ${r.softwareReleases} software releases, ${r.partitions} partitions, ${r.reports} reports, ${r.bangs} bangs`);
    return 0;
  } catch (err) {
    process.stderr.write(`vigil migrate: ${err instanceof StartupError ? err.message : (err as Error).stack ?? String(err)}\n`);
    return 1;
  } finally {
    client.destroy();
  }
}
