// The DynamoDB calls of the store, over one table: typed at the edge (an item read is an
// `Item` of unknown values until a mapper of items.ts parses it), conditional failures as
// `false`, paged lists with opaque cursors (`listPage`), BatchGet/BatchWrite with retries of
// unprocessed keys.
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { InvalidCursor } from '../errors.ts';
import { type IndexName, queryKeyAttributes } from '../table.ts';
import type { Accept, Page } from '../types.ts';

/** An item as read from the table: values are unknown until parsed by a mapper. */
export type Item = Record<string, unknown>;
export interface Key {
  pk: string;
  sk: string;
}
export type QueryInput = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>;
export type UpdateInput = Omit<UpdateCommandInput, 'TableName'>;

const BATCH_WRITE_MAX = 25;
const BATCH_GET_MAX = 100;
const BATCH_RETRIES = 5;

export function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** The key of an item read with its keys (a projection of `pk, sk` included). */
export function keyOf(i: Item): Key {
  return { pk: String(i.pk), sk: String(i.sk) };
}

const backoff = (attempt: number) => new Promise((res) => setTimeout(res, 20 * 2 ** attempt));

// ------------------------------------------------------------------ cursors
/** FNV-1a of the list's scope (which list, which filters), in the cursor: a cursor only works with the filters it was given for. */
function fingerprint(scope: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < scope.length; i++) {
    h ^= scope.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

function encodeCursor(scope: string, key: Item): string {
  return Buffer.from(JSON.stringify({ f: fingerprint(scope), k: key })).toString('base64url');
}

/** Where a list's Query must stay: the values its partition key has, the prefix its sort key has. */
export interface CursorBounds {
  fixed: Record<string, string>;
  prefixes?: Record<string, string>;
}

function decodeCursor(cursor: string | undefined, scope: string, keyAttrs: string[], bounds: CursorBounds): Item | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursor('not a cursor of this list');
  }
  const p = parsed as { f?: unknown; k?: unknown } | null;
  if (!p || typeof p !== 'object' || typeof p.k !== 'object' || p.k === null) throw new InvalidCursor('not a cursor of this list');
  if (p.f !== fingerprint(scope)) throw new InvalidCursor('this cursor was given for another list or other filters: repeat the filters of the first page');
  const k = p.k as Record<string, unknown>;
  const names = Object.keys(k).sort();
  if (names.join(',') !== [...keyAttrs].sort().join(',') || names.some((n) => typeof k[n] !== 'string' || (k[n] as string).length > 1024)) {
    throw new InvalidCursor('not a cursor of this list');
  }
  for (const [a, v] of Object.entries(bounds.fixed)) if (k[a] !== v) throw new InvalidCursor('this cursor was given for another list or other filters');
  for (const [a, v] of Object.entries(bounds.prefixes ?? {})) if (!String(k[a]).startsWith(v)) throw new InvalidCursor('this cursor was given for another list or other filters');
  return k;
}

const pick = (i: Item, attrs: string[]): Item => Object.fromEntries(attrs.map((a) => [a, i[a]]));

/** One page of a list: a Query, its entries loaded into records, filtered, cut at `limit`. */
export interface ListSpec<T> {
  /** The list and its filters (the cursor is bound to it). */
  scope: string;
  query: QueryInput;
  index?: IndexName;
  bounds: CursorBounds;
  /** Records of the Query's entries, in order (null: the entry's item vanished). */
  load: (entries: Item[]) => Promise<(T | null)[]>;
  accept?: Accept<T> | undefined;
  /** `accept` skips items: read ahead (else read only as many as the page can take). */
  filtered?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
  /** Entries examined at most (a filter dropping most of them answers a short page with a cursor). */
  budget?: number | undefined;
}

// ------------------------------------------------------------------ the client
export interface TableClient {
  readonly tableName: string;
  /** Parallel single-item writes when propagating to many items. */
  readonly concurrency: number;
  /** GetItem (strongly consistent unless told). */
  get(key: Key, consistent?: boolean): Promise<Item | null>;
  /** UpdateItem: its returned attributes (null when none asked), false when its condition failed. */
  update(input: UpdateInput): Promise<Item | null | false>;
  /** UpdateItem returning ALL_OLD, and on a failed condition the item as it was (null: none, or not returned by the endpoint). */
  updateOld(input: Omit<UpdateInput, 'ReturnValues' | 'ReturnValuesOnConditionCheckFailure'>): Promise<{ ok: true; old: Item | null } | { ok: false; item: Item | null }>;
  /** PutItem of a new item: false when one with its key exists. */
  create(item: Item): Promise<boolean>;
  put(item: Item): Promise<void>;
  delete(key: Key): Promise<void>;
  /** Every item of a Query (pages followed up to `max` items). */
  queryAll(input: QueryInput, max?: number): Promise<Item[]>;
  /** One raw page of a Query (internal paging, e.g. the sweep). */
  queryPage(input: QueryInput, start?: Item): Promise<{ items: Item[]; last?: Item }>;
  /** How many items a Query matches (Select COUNT, every page). */
  count(input: QueryInput): Promise<number>;
  /** BatchGetItem (strongly consistent unless told), any number of keys. */
  batchGet(keys: Key[], consistent?: boolean): Promise<Item[]>;
  /** BatchWriteItem puts, 25 at a time. */
  batchPut(items: Item[]): Promise<void>;
  /** BatchWriteItem deletes, 25 at a time. */
  batchDelete(keys: Key[]): Promise<void>;
  /** A Scan page (local TTL emulation and the migration only: never on a request path). */
  scanPage(input: Omit<ScanCommandInput, 'TableName' | 'ExclusiveStartKey'>, start?: Item): Promise<{ items: Item[]; last?: Item }>;
  /** One page of a list (see ListSpec). */
  listPage<T>(spec: ListSpec<T>): Promise<Page<T>>;
}

/** One item parsed by `map`, or null when there is none (a strongly consistent read). */
export async function readItem<T>(table: TableClient, key: Key, map: (i: Item) => T): Promise<T | null> {
  const i = await table.get(key);
  return i ? map(i) : null;
}

/** Loads the items of index entries (eventually consistent BatchGet), in the entries' order. */
export function loadItems<T>(table: TableClient, map: (i: Item) => T): (entries: Item[]) => Promise<(T | null)[]> {
  return async (entries) => {
    if (entries.length === 0) return [];
    const found = await table.batchGet(entries.map(keyOf), false);
    const byKey = new Map(found.map((i) => [`${String(i.pk)}\u0000${String(i.sk)}`, i]));
    return entries.map((e) => {
      const i = byKey.get(`${String(e.pk)}\u0000${String(e.sk)}`);
      return i ? map(i) : null;
    });
  };
}

/** Records of full items (a table Query, an ALL index). */
export const mapItems =
  <T>(map: (i: Item) => T) =>
  async (entries: Item[]): Promise<(T | null)[]> =>
    entries.map(map);

async function listPage<T>(doc: DynamoDBDocumentClient, TableName: string, spec: ListSpec<T>): Promise<Page<T>> {
  const keyAttrs = queryKeyAttributes(spec.index);
  let start = decodeCursor(spec.cursor, spec.scope, keyAttrs, spec.bounds);
  const items: T[] = [];
  const budget = spec.budget ?? Number.POSITIVE_INFINITY;
  let examined = 0;
  let last: Item | undefined;
  for (;;) {
    const remaining = spec.limit - items.length;
    const want = spec.filtered ? Math.min(1000, Math.max(25, remaining * 2)) : remaining;
    const r = await doc.send(
      new QueryCommand({ TableName, ...spec.query, ...(spec.index ? { IndexName: spec.index } : {}), Limit: Math.max(1, Math.min(want, budget - examined)), ExclusiveStartKey: start }),
    );
    const entries = (r.Items ?? []) as Item[];
    // loaded a chunk at a time: never more than the page can still take (size cut, filters)
    let recs: (T | null)[] = [];
    let loaded = 0;
    for (let i = 0; i < entries.length; i++) {
      if (i >= loaded) {
        const chunk = spec.filtered ? Math.max(25, spec.limit - items.length) : Math.max(1, spec.limit - items.length);
        recs = await spec.load(entries.slice(i, i + chunk));
        loaded = i + recs.length;
      }
      const rec = recs[i - (loaded - recs.length)];
      if (rec !== null && rec !== undefined) {
        let d = spec.accept ? spec.accept(rec) : 'take';
        // a page holds at least one item, whatever its size
        if (d === 'stop' && items.length === 0) d = 'take';
        if (d === 'stop') return { items, next: last ? encodeCursor(spec.scope, last) : null };
        if (d === 'take') items.push(rec);
      }
      examined++;
      last = pick(entries[i] as Item, keyAttrs);
      const more = i < entries.length - 1 || !!r.LastEvaluatedKey;
      if (items.length >= spec.limit || examined >= budget) return { items, next: more ? encodeCursor(spec.scope, last) : null };
    }
    if (!r.LastEvaluatedKey) return { items, next: null };
    start = r.LastEvaluatedKey as Item;
  }
}

export function createTableClient(client: DynamoDBClient, tableName: string, concurrency: number): TableClient {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const TableName = tableName;

  async function batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX) {
      let pending = requests.slice(i, i + BATCH_WRITE_MAX);
      for (let attempt = 0; pending.length > 0; attempt++) {
        const r = await doc.send(new BatchWriteCommand({ RequestItems: { [TableName]: pending } }));
        pending = (r.UnprocessedItems?.[TableName] as Record<string, unknown>[] | undefined) ?? [];
        if (pending.length && attempt > BATCH_RETRIES) throw new Error('BatchWriteItem kept returning unprocessed items');
        if (pending.length) await backoff(attempt);
      }
    }
  }

  async function batchGet(keys: Key[], consistent: boolean): Promise<Item[]> {
    const found: Item[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
      let request: Item[] = keys.slice(i, i + BATCH_GET_MAX).map((k) => ({ pk: k.pk, sk: k.sk }));
      for (let attempt = 0; request.length > 0; attempt++) {
        const r = await doc.send(new BatchGetCommand({ RequestItems: { [TableName]: { Keys: request, ConsistentRead: consistent } } }));
        found.push(...((r.Responses?.[TableName] ?? []) as Item[]));
        request = (r.UnprocessedKeys?.[TableName]?.Keys as Item[] | undefined) ?? [];
        if (request.length && attempt > BATCH_RETRIES) throw new Error('BatchGetItem kept returning unprocessed keys');
        if (request.length) await backoff(attempt);
      }
    }
    return found;
  }

  return {
    tableName,
    concurrency,
    async get(key, consistent = true) {
      const r = await doc.send(new GetCommand({ TableName, Key: key, ConsistentRead: consistent }));
      return r.Item ?? null;
    },
    async update(input) {
      try {
        const r = await doc.send(new UpdateCommand({ TableName, ...input }));
        return r.Attributes ?? null;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },
    async updateOld(input) {
      try {
        const r = await doc.send(new UpdateCommand({ TableName, ...input, ReturnValues: 'ALL_OLD', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
        return { ok: true, old: r.Attributes ?? null };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        // the item as it was, when the endpoint returns it (DynamoDB does; some emulators do not)
        const raw = (err as { Item?: Record<string, unknown> }).Item;
        return { ok: false, item: raw ? unmarshallItem(raw) : null };
      }
    },
    async create(item) {
      try {
        await doc.send(new PutCommand({ TableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },
    async put(item) {
      await doc.send(new PutCommand({ TableName, Item: item }));
    },
    async delete(key) {
      await doc.send(new DeleteCommand({ TableName, Key: key }));
    },
    async queryAll(input, max = 100_000) {
      const out: Item[] = [];
      let ExclusiveStartKey: Item | undefined;
      do {
        const r = await doc.send(new QueryCommand({ TableName, ...input, ExclusiveStartKey }));
        out.push(...((r.Items ?? []) as Item[]));
        ExclusiveStartKey = r.LastEvaluatedKey as Item | undefined;
      } while (ExclusiveStartKey && out.length < max);
      return out;
    },
    async queryPage(input, start) {
      const r = await doc.send(new QueryCommand({ TableName, ...input, ExclusiveStartKey: start }));
      return r.LastEvaluatedKey ? { items: (r.Items ?? []) as Item[], last: r.LastEvaluatedKey as Item } : { items: (r.Items ?? []) as Item[] };
    },
    async count(input) {
      let count = 0;
      let ExclusiveStartKey: Item | undefined;
      do {
        const r = await doc.send(new QueryCommand({ TableName, ...input, Select: 'COUNT', ExclusiveStartKey }));
        count += r.Count ?? 0;
        ExclusiveStartKey = r.LastEvaluatedKey as Item | undefined;
      } while (ExclusiveStartKey);
      return count;
    },
    batchGet: (keys, consistent = true) => batchGet(keys, consistent),
    batchPut: (items) => batchWrite(items.map((Item) => ({ PutRequest: { Item } }))),
    batchDelete: (keys) => batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } }))),
    async scanPage(input, start) {
      const r = await doc.send(new ScanCommand({ TableName, ...input, ExclusiveStartKey: start }));
      return r.LastEvaluatedKey ? { items: (r.Items ?? []) as Item[], last: r.LastEvaluatedKey as Item } : { items: (r.Items ?? []) as Item[] };
    },
    listPage: (spec) => listPage(doc, TableName, spec),
  };
}

/** A low-level attribute value (an error's `Item`) as the document client gives values. */
function unmarshallValue(v: unknown): unknown {
  const a = v as Record<string, unknown>;
  if ('S' in a) return a.S;
  if ('N' in a) return Number(a.N);
  if ('B' in a) return a.B instanceof Uint8Array ? a.B : new Uint8Array(Buffer.from(String(a.B), 'base64'));
  if ('BOOL' in a) return a.BOOL === true;
  if ('NULL' in a) return null;
  if ('M' in a) return unmarshallItem(a.M as Record<string, unknown>);
  if ('L' in a) return (a.L as unknown[]).map(unmarshallValue);
  if ('SS' in a) return new Set(a.SS as string[]);
  if ('NS' in a) return new Set((a.NS as string[]).map(Number));
  return undefined;
}

function unmarshallItem(raw: Record<string, unknown>): Item {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, unmarshallValue(v)]));
}
