// The single DynamoDB table of the master: key schema, GSIs and item keys (layout v2, issue 12:
// docs/decisions.md "Fleet scale: store layout"). The CDK table (lib/constructs/vigil-table.ts),
// tests and the local master are all built from `tableDefinition(name)`.
//
// Items (pk / sk):
//   COMPUTERS / <computerId>          a computer (small: token hash, last contact, colour, versions)
//   C#<computerId> / P#<partitionId>  a partition, under its computer (one Query = its assignments)
//   SRS / <srId>                      a software release
//   H#<partitionId> / <reportKey>     one report with every promise result (expires: TTL)
//   B#<partitionId> / B#<bangId>      an accepted bang; R#<createdAt>#<bangId> a rejected one
//   Q#<partitionId> / D#<day>         the bang quota counter of a UTC day (expires)
//   S#<sha256> / #SESSION             a dashboard session (expires)
//   SUMMARY / FLEET                   colour counts written by the sweep, partition total
//   CHANNELS / <channelId>            a notification channel
//   SILENCES / <silenceId>            a silence
//   EV#<eventId> / #EVENT             a recorded event (the outbox); DEAD#<channelId> a dead delivery
//   DQ#<channelId> / <key> <seq>      a queued delivery (one FIFO per ordering key)
// Every index is KEYS_ONLY (reads fetch the items they need), except the two bang indexes
// (ALL: bangs are written twice in their life, read on every bang page). The notification
// indexes' attributes (el, eo, ep, ec, dq, dd) are on event and delivery items only.
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const PK = 'pk';
export const SK = 'sk';
/** TTL attribute (epoch seconds): promise history, bang quota counters and dashboard sessions expire. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Attributes that put an item in an index (the only ones an index is keyed by). */
export const INDEX_ATTR = {
  /** Partitions: the list index (constant `P`); sort key = the table's sk (P#<partitionId>). */
  list: 'lp',
  /** Partitions: the instance tree id. */
  tree: 'tr',
  /** Partitions: the software release id. */
  softwareRelease: 'sr',
  /** Partitions whose colour may change by itself: `sw` = SWEEP, `sd` = when (ISO; lazy, never later than the real time). */
  sweep: 'sw',
  sweepDue: 'sd',
  /** Partitions recorded red: `rx` = RED, `rt` = <treeId>#<partitionId>. */
  red: 'rx',
  redKey: 'rt',
  /** Partitions with at least one monitoring crime: `cx` = CRIME. */
  crimes: 'cx',
  /** Bangs: every bang (`bl` = BANG) and per partition (`bp` = partitionId), sorted by `bo`. */
  bangLog: 'bl',
  bangPartition: 'bp',
  bangOrder: 'bo',
} as const;

/** The partitions, sorted by id (GET /v1/partitions, a partition by id). */
export const GSI_PARTITIONS = 'partitionList';
/** The partitions of an instance tree, sorted by id (tree pages, bang fan-out). */
export const GSI_TREE = 'partitionTree';
/** The partitions of a software release (its periodicity or quota changed). */
export const GSI_SR = 'partitionSr';
/** Sparse: partitions due for the sweep at or before `sd`. */
export const GSI_SWEEP = 'partitionSweep';
/** Sparse: partitions recorded red, by tree (?colour=red, a tree's colour, the summary's red count). */
export const GSI_RED = 'partitionRed';
/** Sparse: partitions with monitoring crimes (?crimes=true). */
export const GSI_CRIMES = 'partitionCrimes';
/** Every bang, by time. */
export const GSI_BANGS = 'bangLog';
/** The bangs of one partition, by time. */
export const GSI_PARTITION_BANGS = 'bangPartition';

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

const A = INDEX_ATTR;
export const GSIS = [
  { name: GSI_PARTITIONS, pk: A.list, sk: SK, projection: 'KEYS_ONLY' },
  { name: GSI_TREE, pk: A.tree, sk: SK, projection: 'KEYS_ONLY' },
  { name: GSI_SR, pk: A.softwareRelease, sk: SK, projection: 'KEYS_ONLY' },
  { name: GSI_SWEEP, pk: A.sweep, sk: A.sweepDue, projection: 'KEYS_ONLY' },
  { name: GSI_RED, pk: A.red, sk: A.redKey, projection: 'KEYS_ONLY' },
  { name: GSI_CRIMES, pk: A.crimes, sk: SK, projection: 'KEYS_ONLY' },
  { name: GSI_BANGS, pk: A.bangLog, sk: A.bangOrder, projection: 'ALL' },
  { name: GSI_PARTITION_BANGS, pk: A.bangPartition, sk: A.bangOrder, projection: 'ALL' },
  { name: GSI_EVENT_LOG, pk: 'el', sk: 'eo', projection: 'KEYS_ONLY' },
  { name: GSI_EVENT_PARTITION, pk: 'ep', sk: 'eo', projection: 'KEYS_ONLY' },
  { name: GSI_EVENT_COMPUTER, pk: 'ec', sk: 'eo', projection: 'KEYS_ONLY' },
  { name: GSI_NOTIFY_DUE, pk: 'dq', sk: 'dd', projection: 'KEYS_ONLY' },
] as const;

export type IndexName = (typeof GSIS)[number]['name'];

/** The key attributes of a Query's LastEvaluatedKey (table, or table + index keys). */
export function queryKeyAttributes(index?: IndexName): string[] {
  if (!index) return [PK, SK];
  const g = GSIS.find((x) => x.name === index);
  if (!g) throw new Error(`no index ${index}`);
  return [...new Set([PK, SK, g.pk, g.sk])];
}

/** Constant values of the index partition keys. */
export const INDEX_PK = { list: 'P', sweep: 'SWEEP', red: 'RED', crimes: 'CRIME', bangLog: 'BANG' } as const;

const COMPUTERS = 'COMPUTERS';
const SOFTWARE_RELEASES = 'SRS';
const PARTITION_SK = 'P#';
const COMPUTER_PK = 'C#';

/** Primary keys (pk, sk) of every item. The only place that spells their prefixes. */
export const keys = {
  /** All computers in one collection: the sweep reads them in one Query (docs/decisions.md: the ceiling and the way out). */
  computer: (computerId: string) => ({ pk: COMPUTERS, sk: computerId }),
  computersPk: COMPUTERS,
  /** Partitions live under their computer: one Query gives a computer's assignments. */
  partition: (computerId: string, partitionId: string) => ({ pk: computerPk(computerId), sk: partitionSk(partitionId) }),
  partitionSk,
  computerPartitionsPk: computerPk,
  /** The sk prefix of a computer's partitions (Query `begins_with`). */
  partitionSkPrefix: PARTITION_SK,
  /** The computer and partition ids of a partition item's keys (index entries carry them), or null. */
  partitionRef(pk: unknown, sk: unknown): { computerId: string; partitionId: string } | null {
    if (typeof pk !== 'string' || typeof sk !== 'string' || !pk.startsWith(COMPUTER_PK) || !sk.startsWith(PARTITION_SK)) return null;
    return { computerId: pk.slice(COMPUTER_PK.length), partitionId: sk.slice(PARTITION_SK.length) };
  },
  softwareRelease: (srId: string) => ({ pk: SOFTWARE_RELEASES, sk: srId }),
  softwareReleasesPk: SOFTWARE_RELEASES,
  /** An accepted bang (its id is taken: a re-post is a duplicate). */
  bang: (partitionId: string, bangId: string) => ({ pk: bangsPk(partitionId), sk: `B#${bangId}` }),
  /** A bang rejected by the quota (logged; its id stays free). */
  rejectedBang: (partitionId: string, createdAt: string, bangId: string) => ({ pk: bangsPk(partitionId), sk: `R#${createdAt}#${bangId}` }),
  quota: (partitionId: string, day: string) => ({ pk: `Q#${partitionId}`, sk: `D#${day}` }),
  /** A dashboard session, under the SHA-256 of its id; expires with the TTL. */
  session: (sessionKey: string) => ({ pk: `S#${sessionKey}`, sk: '#SESSION' }),
  historyPk,
  /** One report and all its promise results, sorted by the report key (`<startedAt ISO>#<reportId>`). */
  history: (partitionId: string, reportKey: string) => ({ pk: historyPk(partitionId), sk: reportKey }),
  /** The fleet summary (written by the sweep) and the partition counter. */
  summary: { pk: 'SUMMARY', sk: 'FLEET' },
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

function computerPk(computerId: string): string {
  return `${COMPUTER_PK}${computerId}`;
}

function partitionSk(partitionId: string): string {
  return `${PARTITION_SK}${partitionId}`;
}

function bangsPk(partitionId: string): string {
  return `B#${partitionId}`;
}

function historyPk(partitionId: string): string {
  return `H#${partitionId}`;
}

/** Index key attributes of an item (what puts it in an index). */
export const indexKeys = {
  list: () => ({ [A.list]: INDEX_PK.list }),
  tree: (instanceTreeId: string) => ({ [A.tree]: instanceTreeId }),
  softwareRelease: (srId: string) => ({ [A.softwareRelease]: srId }),
  /** sweep: due for the sweep at `dueAt` (ISO time). */
  sweep: (dueAt: string) => ({ [A.sweep]: INDEX_PK.sweep, [A.sweepDue]: dueAt }),
  /** red: sorted by tree then partition. */
  red: (instanceTreeId: string, partitionId: string) => ({ [A.red]: INDEX_PK.red, [A.redKey]: redKey(instanceTreeId, partitionId) }),
  redKey,
  /** The red-index key prefix of a tree (`begins_with`). */
  redTreePrefix: (instanceTreeId: string) => `${instanceTreeId}#`,
  crimes: () => ({ [A.crimes]: INDEX_PK.crimes }),
  /** Both bang indexes: newest last by time, then partition and id. */
  bang: (createdAt: string, partitionId: string, bangId: string) => ({
    [A.bangLog]: INDEX_PK.bangLog,
    [A.bangPartition]: partitionId,
    [A.bangOrder]: `${createdAt}#${partitionId}#${bangId}`,
  }),
};

function redKey(instanceTreeId: string, partitionId: string): string {
  return `${instanceTreeId}#${partitionId}`;
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
      Projection: { ProjectionType: g.projection },
    })),
  };
}

// ------------------------------------------------------------------ layout v1 (before issue 12)
/**
 * The keys of the layout before issue 12, read only by the migration
 * (functions/store/dynamo/migrate.ts): computers at `C#<id>` / `#META`, partitions at
 * `C#<id>` / `P#<id>`, SRs at `SR#<id>` / `#META`, one history item per promise result
 * (`H#<partition>` / `P#<name>#<date>#<reportId>`) and per report (`~R#<startedAt>#<reportId>`).
 */
export const legacy = {
  isComputer: (i: { pk?: unknown; sk?: unknown }) => typeof i.pk === 'string' && i.pk.startsWith(COMPUTER_PK) && i.sk === '#META',
  isPartition: (i: { pk?: unknown; sk?: unknown }) => typeof i.pk === 'string' && i.pk.startsWith(COMPUTER_PK) && typeof i.sk === 'string' && i.sk.startsWith(PARTITION_SK),
  isSoftwareRelease: (i: { pk?: unknown; sk?: unknown }) => typeof i.pk === 'string' && i.pk.startsWith('SR#') && i.sk === '#META',
  isHistoryReport: (i: { pk?: unknown; sk?: unknown }) => typeof i.pk === 'string' && i.pk.startsWith('H#') && typeof i.sk === 'string' && i.sk.startsWith('~R#'),
  isHistoryResult: (i: { pk?: unknown; sk?: unknown }) => typeof i.pk === 'string' && i.pk.startsWith('H#') && typeof i.sk === 'string' && i.sk.startsWith(PARTITION_SK),
  isBang: (i: { pk?: unknown }) => typeof i.pk === 'string' && i.pk.startsWith('B#'),
  isQuota: (i: { pk?: unknown }) => typeof i.pk === 'string' && i.pk.startsWith('Q#'),
  isSession: (i: { pk?: unknown }) => typeof i.pk === 'string' && i.pk.startsWith('S#'),
  /** The index attributes of v1 items (dropped when copied). */
  indexAttributes: ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk', 'gsi4pk', 'gsi4sk'],
  /** The v1 table (tests of the migration create one). */
  tableDefinition(tableName: string): CreateTableCommandInput {
    const names = [
      ['byTree', 'gsi1pk', 'gsi1sk'],
      ['byKind', 'gsi2pk', 'gsi2sk'],
      ['sweep', 'gsi3pk', 'gsi3sk'],
      ['bySr', 'gsi4pk', 'gsi4sk'],
    ] as const;
    return {
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [PK, SK, ...names.flatMap(([, p, s]) => [p, s])].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: PK, KeyType: 'HASH' },
        { AttributeName: SK, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: names.map(([IndexName, p, s]) => ({
        IndexName,
        KeySchema: [
          { AttributeName: p, KeyType: 'HASH' },
          { AttributeName: s, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    };
  },
};
