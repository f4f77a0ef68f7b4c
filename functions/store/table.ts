// The single DynamoDB table of the master: key schema, GSIs and item keys.
// The CDK table (lib/constructs/vigil-table.ts), tests and the local master are all built
// from `tableDefinition(name)`.
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const PK = 'pk';
export const SK = 'sk';
/** TTL attribute (epoch seconds): promise history, bang quota counters and dashboard sessions expire. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Partitions of an instance tree: gsi1pk = T#<treeId>, gsi1sk = P#<partitionId>. */
export const GSI_BY_TREE = 'byTree';
/** Listing of one kind of item (COMPUTER, PARTITION, SR, BANG): gsi2pk = kind, gsi2sk = id. */
export const GSI_BY_KIND = 'byKind';
/** Sparse: items whose colour changes by itself at gsi3sk (ISO time). gsi3pk = SWEEP. */
export const GSI_SWEEP = 'sweep';
/** Partitions of a software release: gsi4pk = SR#<srId>, gsi4sk = P#<partitionId>. */
export const GSI_BY_SR = 'bySr';

export const GSIS = [
  { name: GSI_BY_TREE, pk: 'gsi1pk', sk: 'gsi1sk' },
  { name: GSI_BY_KIND, pk: 'gsi2pk', sk: 'gsi2sk' },
  { name: GSI_SWEEP, pk: 'gsi3pk', sk: 'gsi3sk' },
  { name: GSI_BY_SR, pk: 'gsi4pk', sk: 'gsi4sk' },
] as const;

export const SWEEP_PARTITION = 'SWEEP';

export const keys = {
  computer: (computerId: string) => ({ pk: `C#${computerId}`, sk: '#META' }),
  /** Partitions live under their computer, so one Query serves a heartbeat. */
  partition: (computerId: string, partitionId: string) => ({ pk: `C#${computerId}`, sk: `P#${partitionId}` }),
  softwareRelease: (srId: string) => ({ pk: `SR#${srId}`, sk: '#META' }),
  bang: (partitionId: string, bangId: string) => ({ pk: `B#${partitionId}`, sk: `B#${bangId}` }),
  quota: (partitionId: string, day: string) => ({ pk: `Q#${partitionId}`, sk: `D#${day}` }),
  historyPk: (partitionId: string) => `H#${partitionId}`,
  /** A dashboard session, under the SHA-256 of its id; expires with the TTL. */
  session: (sessionKey: string) => ({ pk: `S#${sessionKey}`, sk: '#SESSION' }),
};

export function tableDefinition(tableName: string): CreateTableCommandInput {
  const attrs = new Set<string>([PK, SK]);
  for (const g of GSIS) {
    attrs.add(g.pk);
    attrs.add(g.sk);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attrs].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: PK, KeyType: 'HASH' },
      { AttributeName: SK, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: GSIS.map((g) => ({
      IndexName: g.name,
      KeySchema: [
        { AttributeName: g.pk, KeyType: 'HASH' },
        { AttributeName: g.sk, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}
