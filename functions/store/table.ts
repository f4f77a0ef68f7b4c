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

// Notifications (docs/notifications.md "Storage"): KEYS_ONLY, reads load the items they need.
/** Every recorded event, by time: el = EVENT, eo = <at>#<eventId>. */
export const GSI_EVENT_LOG = 'eventLog';
/** The events of a partition, by time: ep = partitionId, eo. */
export const GSI_EVENT_PARTITION = 'eventPartition';
/** The events of a computer (its own and its partitions'), by time: ec = computerId, eo. */
export const GSI_EVENT_COMPUTER = 'eventComputer';
/**
 * Sparse: the notification work due at dd (ISO time), dq = DUE: delivery queue items (the
 * head of each FIFO, and new items until the worker sees them) and events whose fan-out to
 * the channels is not complete yet (a crash between writes is repaired from here).
 */
export const GSI_NOTIFY_DUE = 'notifyDue';

export const GSIS = [
  { name: GSI_BY_TREE, pk: 'gsi1pk', sk: 'gsi1sk' },
  { name: GSI_BY_KIND, pk: 'gsi2pk', sk: 'gsi2sk' },
  { name: GSI_SWEEP, pk: 'gsi3pk', sk: 'gsi3sk' },
  { name: GSI_BY_SR, pk: 'gsi4pk', sk: 'gsi4sk' },
  { name: GSI_EVENT_LOG, pk: 'el', sk: 'eo', projection: 'KEYS_ONLY' },
  { name: GSI_EVENT_PARTITION, pk: 'ep', sk: 'eo', projection: 'KEYS_ONLY' },
  { name: GSI_EVENT_COMPUTER, pk: 'ec', sk: 'eo', projection: 'KEYS_ONLY' },
  { name: GSI_NOTIFY_DUE, pk: 'dq', sk: 'dd', projection: 'KEYS_ONLY' },
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

const CHANNELS = 'CHANNELS';
const SILENCES = 'SILENCES';
const EVENT_PK = 'EV#';
const EVENT_SK = '#EVENT';
const DEAD_SK = 'DEAD#';
const DELIVERY_PK = 'DQ#';
/** Ordering keys and sequences never hold a space (ids are [A-Za-z0-9._:@-]). */
const QUEUE_SEP = ' ';
const EVENT_LOG_PK = 'EVENT';
const DUE_PK = 'DUE';

/** Keys of notifications: channels, silences, events (the outbox), delivery queues. */
export const notifyKeys = {
  /** All channels in one collection (they are few: the event path reads them all). */
  channel: (channelId: string) => ({ pk: CHANNELS, sk: channelId }),
  channelsPk: CHANNELS,
  /** All silences in one collection (the event path reads the active ones). */
  silence: (silenceId: string) => ({ pk: SILENCES, sk: silenceId }),
  silencesPk: SILENCES,
  /** A recorded event, under its id (a conditional put on it is idempotent). */
  event: (eventId: string) => ({ pk: eventPk(eventId), sk: EVENT_SK }),
  /** The event id of an event item's pk (null: not an event item). */
  eventIdOf: (pk: unknown): string | null => (typeof pk === 'string' && pk.startsWith(EVENT_PK) ? pk.slice(EVENT_PK.length) : null),
  /** A delivery that died (refused, or given up), next to its event. */
  deadDelivery: (eventId: string, channelId: string) => ({ pk: eventPk(eventId), sk: `${DEAD_SK}${channelId}` }),
  /**
   * A queued delivery: one collection per channel, sorted by ordering key then sequence, so
   * the items of one FIFO are adjacent and its head is the first of its key.
   */
  delivery: (channelId: string, key: string, seq: string) => ({ pk: deliveriesPk(channelId), sk: `${key}${QUEUE_SEP}${seq}` }),
  deliveriesPk,
  /** The sk range of one FIFO of a channel (Query `begins_with`). */
  fifoPrefix: (key: string) => `${key}${QUEUE_SEP}`,
  /** Channel, ordering key and sequence of a delivery item's keys (null: not one). */
  deliveryRef(pk: unknown, sk: unknown): { channelId: string; key: string; seq: string } | null {
    if (typeof pk !== 'string' || typeof sk !== 'string' || !pk.startsWith(DELIVERY_PK)) return null;
    const i = sk.indexOf(QUEUE_SEP);
    if (i <= 0) return null;
    return { channelId: pk.slice(DELIVERY_PK.length), key: sk.slice(0, i), seq: sk.slice(i + QUEUE_SEP.length) };
  },
};

/** Index keys of notifications. */
export const notifyIndexKeys = {
  /** eventLog + eventPartition + eventComputer entries of an event. */
  event: (e: { at: string; eventId: string; partitionId?: string | undefined; computerId?: string | undefined }) => ({
    el: EVENT_LOG_PK,
    eo: `${e.at}#${e.eventId}`,
    ...(e.partitionId ? { ep: e.partitionId } : {}),
    ...(e.computerId ? { ec: e.computerId } : {}),
  }),
  eventLogPk: EVENT_LOG_PK,
  /** notifyDue: due at `dueAt` (ISO time). */
  due: (dueAt: string) => ({ dq: DUE_PK, dd: dueAt }),
  duePk: DUE_PK,
};

function eventPk(eventId: string): string {
  return `${EVENT_PK}${eventId}`;
}

function deliveriesPk(channelId: string): string {
  return `${DELIVERY_PK}${channelId}`;
}

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
      Projection: { ProjectionType: 'projection' in g ? g.projection : 'ALL' },
    })),
  };
}
