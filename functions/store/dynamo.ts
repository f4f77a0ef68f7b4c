// DynamoDB single-table implementation of the Store, one module per entity under dynamo/.
// Single-item (conditional) writes and Batch{Get,Write}Item only: no transactions, no
// PartiQL, no Scan on any request path (dynalite and DynamoDB Local both run it).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { bangStore } from './dynamo/bangs.ts';
import { computerStore } from './dynamo/computers.ts';
import { notifyStore } from './dynamo/notify.ts';
import { partitionStore } from './dynamo/partitions.ts';
import { reportStore } from './dynamo/reports.ts';
import { softwareReleaseStore } from './dynamo/software-releases.ts';
import { sessionStore } from './dynamo/sessions.ts';
import { maintenanceStore, sweepStore } from './dynamo/sweep.ts';
import { type MigrationReport, migrateFromV1 } from './dynamo/migrate.ts';
import { createTableClient } from './dynamo/table-client.ts';
import type { Store } from './types.ts';

export type { MigrationReport };

export interface DynamoStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Parallel single-item writes when propagating to many partitions. */
  concurrency?: number;
}

export function createDynamoStore({ client, tableName, concurrency = 16 }: DynamoStoreOptions): Store {
  const table = createTableClient(client, tableName, concurrency);
  return {
    ...softwareReleaseStore(table),
    ...computerStore(table),
    ...partitionStore(table),
    ...reportStore(table),
    ...bangStore(table),
    ...sweepStore(table),
    ...sessionStore(table),
    ...maintenanceStore(table),
    ...notifyStore(table),
  };
}

/**
 * Copies a table of the layout before issue 12 into a table of the current layout (a Scan of
 * the old table: a one-off, never on a request path). docs/deploy.md says when to run it.
 */
export function migrateTable(
  client: DynamoDBClient,
  from: string,
  to: string,
  opts: { now: string; history?: boolean; log?: (line: string) => void; concurrency?: number },
): Promise<MigrationReport> {
  return migrateFromV1(createTableClient(client, from, opts.concurrency ?? 16), createTableClient(client, to, opts.concurrency ?? 16), opts);
}
