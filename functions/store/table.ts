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

/** The `type` attribute of each item. */
export const ITEM_TYPE = {
  computer: 'computer',
  partition: 'partition',
  softwareRelease: 'sr',
  bang: 'bang',
  quota: 'quota',
  report: 'report',
  history: 'history',
  session: 'session',
} as const;

/** The partition key values of the byKind index (gsi2pk). */
export const KIND = { computer: 'COMPUTER', partition: 'PARTITION', softwareRelease: 'SR', bang: 'BANG' } as const;
export type Kind = (typeof KIND)[keyof typeof KIND];

const META = '#META';
const PARTITION_SK = 'P#';

/** Primary keys (pk, sk) of every item. The only place that spells their prefixes. */
export const keys = {
  computer: (computerId: string) => ({ pk: `C#${computerId}`, sk: META }),
  /** Partitions live under their computer, so one Query serves a heartbeat. */
  partition: (computerId: string, partitionId: string) => ({ pk: `C#${computerId}`, sk: `${PARTITION_SK}${partitionId}` }),
  /** The sk prefix of a computer's partitions (Query `begins_with`). */
  partitionSkPrefix: PARTITION_SK,
  isComputerSk: (sk: unknown): boolean => sk === META,
  isPartitionSk: (sk: unknown): boolean => typeof sk === 'string' && sk.startsWith(PARTITION_SK),
  softwareRelease: (srId: string) => ({ pk: `SR#${srId}`, sk: META }),
  /** An accepted bang (its id is taken: a re-post is a duplicate). */
  bang: (partitionId: string, bangId: string) => ({ pk: bangsPk(partitionId), sk: `B#${bangId}` }),
  /** A bang rejected by the quota (logged; its id stays free). */
  rejectedBang: (partitionId: string, createdAt: string, bangId: string) => ({ pk: bangsPk(partitionId), sk: `R#${createdAt}#${bangId}` }),
  /** Every bang of a partition, accepted or rejected, shares this pk. */
  bangsPk,
  quota: (partitionId: string, day: string) => ({ pk: `Q#${partitionId}`, sk: `D#${day}` }),
  /** A dashboard session, under the SHA-256 of its id; expires with the TTL. */
  session: (sessionKey: string) => ({ pk: `S#${sessionKey}`, sk: '#SESSION' }),
  historyPk,
  /** A report's summary in the partition's history (sorted after the promise results). */
  historyReport: (partitionId: string, startedAt: string, reportId: string) => ({ pk: historyPk(partitionId), sk: `~R#${startedAt}#${reportId}` }),
  /** One promise result in the partition's history. */
  historyResult: (partitionId: string, name: string, date: string, reportId: string) => ({
    pk: historyPk(partitionId),
    sk: `${PARTITION_SK}${name}#${date}#${reportId}`,
  }),
};

function bangsPk(partitionId: string): string {
  return `B#${partitionId}`;
}

function historyPk(partitionId: string): string {
  return `H#${partitionId}`;
}

/** Secondary index keys: the attributes that put an item in an index. */
export const indexKeys = {
  /** byTree: the partitions of an instance tree. */
  tree: (instanceTreeId: string, partitionId: string) => ({ gsi1pk: treePk(instanceTreeId), gsi1sk: `${PARTITION_SK}${partitionId}` }),
  treePk,
  /** byKind: listing of one kind of item, sorted by `sortKey`. */
  kind: (kind: Kind, sortKey: string) => ({ gsi2pk: kind, gsi2sk: sortKey }),
  /** byKind sort key of a bang: newest last, by time. */
  bangOrder: (createdAt: string, partitionId: string, bangId: string) => `${createdAt}#${partitionId}#${bangId}`,
  /** sweep: due for the sweep at `dueAt` (ISO time). */
  sweep: (dueAt: string) => ({ gsi3pk: SWEEP_PARTITION, gsi3sk: dueAt }),
  /** bySr: the partitions of a software release. */
  softwareRelease: (srId: string, partitionId: string) => ({ gsi4pk: srPk(srId), gsi4sk: `${PARTITION_SK}${partitionId}` }),
  srPk,
};

function treePk(instanceTreeId: string): string {
  return `T#${instanceTreeId}`;
}

function srPk(srId: string): string {
  return `SR#${srId}`;
}

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
