// The DynamoDB single table. Its keys, indexes and TTL attribute come from the master's own
// table definition (functions/store/table.ts), so the deployed table and the one the tests
// create in DynamoDB Local can never drift apart.
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  GSI_BANGS,
  GSI_CRIMES,
  GSI_EVENT_COMPUTER,
  GSI_EVENT_LOG,
  GSI_EVENT_PARTITION,
  GSI_NOTIFY_DUE,
  GSI_PARTITION_BANGS,
  GSI_PARTITIONS,
  GSI_RED,
  GSI_SR,
  GSI_SWEEP,
  GSI_TREE,
  TTL_ATTRIBUTE,
  tableDefinition,
} from '../../functions/store/table.ts';

type KeyElement = { AttributeName?: string; KeyType?: string };
type AttributeDefinition = { AttributeName?: string; AttributeType?: string };

function attributeType(t: string | undefined): dynamodb.AttributeType {
  switch (t) {
    case 'S':
      return dynamodb.AttributeType.STRING;
    case 'N':
      return dynamodb.AttributeType.NUMBER;
    case 'B':
      return dynamodb.AttributeType.BINARY;
    default:
      throw new Error(`vigil table: unknown attribute type ${String(t)}`);
  }
}

/** Converts a CreateTable KeySchema to CDK partition/sort key attributes. */
function keys(
  schema: KeyElement[] | undefined,
  defs: AttributeDefinition[],
): { partitionKey: dynamodb.Attribute; sortKey?: dynamodb.Attribute } {
  const attr = (keyType: string): dynamodb.Attribute | undefined => {
    const el = schema?.find((k) => k.KeyType === keyType);
    if (!el?.AttributeName) return undefined;
    const def = defs.find((d) => d.AttributeName === el.AttributeName);
    return { name: el.AttributeName, type: attributeType(def?.AttributeType) };
  };
  const partitionKey = attr('HASH');
  if (!partitionKey) throw new Error('vigil table: key schema without a HASH key');
  const sortKey = attr('RANGE');
  return sortKey ? { partitionKey, sortKey } : { partitionKey };
}

export interface VigilTableProps {
  readonly deletionProtection: boolean;
  readonly removalPolicy: RemovalPolicy;
}

export class VigilTable extends Construct {
  readonly table: dynamodb.TableV2;
  readonly indexNames: string[];

  constructor(scope: Construct, id: string, props: VigilTableProps) {
    super(scope, id);
    const def = tableDefinition('vigil');
    const defs = (def.AttributeDefinitions ?? []) as AttributeDefinition[];
    const gsis = (def.GlobalSecondaryIndexes ?? []).map((g) => {
      if (!g.IndexName) throw new Error('vigil table: GSI without a name');
      const projectionType = g.Projection?.ProjectionType ?? 'ALL';
      const gsi: dynamodb.GlobalSecondaryIndexPropsV2 = {
        indexName: g.IndexName,
        ...keys(g.KeySchema as KeyElement[], defs),
        projectionType: projectionType as dynamodb.ProjectionType,
        ...(projectionType === 'INCLUDE' ? { nonKeyAttributes: g.Projection?.NonKeyAttributes ?? [] } : {}),
      };
      return gsi;
    });
    this.indexNames = gsis.map((g) => g.indexName);
    this.table = new dynamodb.TableV2(this, 'Table', {
      ...keys(def.KeySchema as KeyElement[], defs),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
      globalSecondaryIndexes: gsis,
    });
  }
}

/**
 * The DynamoDB actions each function's code path issues (functions/store/dynamo/: single-item
 * writes, Batch{Get,Write}Item and Query; no transactions, no Scan), and the indexes it queries.
 * Tests check that the store's commands and each handler's real requests stay within these.
 */
export const TABLE_ACCESS = {
  // every route of the Hono app
  api: {
    actions: [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ],
    indexes: [GSI_PARTITIONS, GSI_TREE, GSI_SR, GSI_RED, GSI_CRIMES, GSI_BANGS, GSI_PARTITION_BANGS, GSI_EVENT_LOG, GSI_EVENT_PARTITION, GSI_EVENT_COMPUTER],
  },
  // fanOutBang: getBang, pageTreePartitions, flagReprocess, raiseReprocessHint, completeBang;
  // publishEvents (bang.accepted): channels and silences (Query), the event and its deliveries (PutItem)
  fanout: { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:PutItem'], indexes: [GSI_TREE] },
  // runSweep: the computers (Query), pageSweepDue (Query + BatchGetItem), colour writes, the
  // red count and the summary item (UpdateItem)
  sweep: { actions: ['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'], indexes: [GSI_SWEEP, GSI_RED] },
  // deliverDue: notifyDue entries, channels, FIFO heads (Query), leases and results
  // (UpdateItem), events (GetItem), removed deliveries (DeleteItem), dead records and
  // repaired routings (PutItem)
  notify: {
    actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
    indexes: [GSI_NOTIFY_DUE],
  },
} as const satisfies Record<string, { actions: readonly string[]; indexes: readonly string[] }>;

/**
 * Grants a function's actions on the table, and Query on each index it uses by exact ARN
 * (no `index/*` wildcard).
 */
export function grantTableActions(role: iam.IGrantable, table: VigilTable, fn: keyof typeof TABLE_ACCESS): void {
  const { actions, indexes } = TABLE_ACCESS[fn];
  role.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [table.table.tableArn] }));
  for (const index of indexes) {
    if (!table.indexNames.includes(index)) throw new Error(`vigil table: no index ${index}`);
  }
  if (indexes.length > 0) {
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: indexes.map((n) => `${table.table.tableArn}/index/${n}`),
      }),
    );
  }
}
