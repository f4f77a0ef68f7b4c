// The DynamoDB calls of the store, over one table: typed at the edge (an item read is an
// `Item` of unknown values until a mapper of items.ts parses it), conditional failures as
// `false`, paging with opaque cursors, BatchGet/BatchWrite with retries of unprocessed keys.
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
import { GSI_BY_KIND, type Kind } from '../table.ts';
import type { Page } from '../types.ts';

/** An item as read from the table: values are unknown until parsed by a mapper. */
export type Item = Record<string, unknown>;
export interface Key {
  pk: string;
  sk: string;
}
export type QueryInput = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>;
export type UpdateInput = Omit<UpdateCommandInput, 'TableName'>;

const BATCH_WRITE_MAX = 25;
const BATCH_RETRIES = 5;

export function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

const encodeCursor = (k: Item | undefined): string | undefined => (k ? Buffer.from(JSON.stringify(k)).toString('base64url') : undefined);
const decodeCursor = (c: string | undefined): Item | undefined => (c ? (JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as Item) : undefined);

/** A Query or Scan answer as a page: its items, and the cursor of the next page when there is one. */
function pageOf(r: { Items?: Item[]; LastEvaluatedKey?: Item }): Page<Item> {
  const next = encodeCursor(r.LastEvaluatedKey);
  return next ? { items: r.Items ?? [], cursor: next } : { items: r.Items ?? [] };
}

/** The key of an item read with its keys (a projection of `pk, sk` included). */
export function keyOf(i: Item): Key {
  return { pk: String(i.pk), sk: String(i.sk) };
}

const backoff = (attempt: number) => new Promise((res) => setTimeout(res, 20 * 2 ** attempt));

export interface TableClient {
  readonly tableName: string;
  /** Parallel single-item writes when propagating to many items. */
  readonly concurrency: number;
  /** Strongly consistent GetItem. */
  get(key: Key): Promise<Item | null>;
  /** UpdateItem: its returned attributes (null when none asked), false when its condition failed. */
  update(input: UpdateInput): Promise<Item | null | false>;
  /** PutItem of a new item: false when one with its key exists. */
  create(item: Item): Promise<boolean>;
  put(item: Item): Promise<void>;
  delete(key: Key): Promise<void>;
  /** Every item of a Query (pages followed up to `max` items). */
  queryAll(input: QueryInput, max?: number): Promise<Item[]>;
  /** One page of a Query, with the cursor of the next one. */
  queryPage(input: QueryInput, cursor?: string): Promise<Page<Item>>;
  /** How many items a Query matches (Select COUNT, every page). */
  count(input: QueryInput): Promise<number>;
  /** Strongly consistent BatchGetItem (up to 100 keys). */
  batchGet(keys: Key[]): Promise<Item[]>;
  /** BatchWriteItem puts, 25 at a time. */
  batchPut(items: Item[]): Promise<void>;
  /** BatchWriteItem deletes, 25 at a time. */
  batchDelete(keys: Key[]): Promise<void>;
  /** A Scan page (local TTL emulation only: never on a request path). */
  scanPage(input: Omit<ScanCommandInput, 'TableName' | 'ExclusiveStartKey'>, cursor?: string): Promise<Page<Item>>;
}

/** One item parsed by `map`, or null when there is none (a strongly consistent read). */
export async function readItem<T>(table: TableClient, key: Key, map: (i: Item) => T): Promise<T | null> {
  const i = await table.get(key);
  return i ? map(i) : null;
}

/** Every item of one kind (the byKind index), parsed by `map`. */
export async function listKind<T>(table: TableClient, kind: Kind, map: (i: Item) => T): Promise<T[]> {
  const items = await table.queryAll({ IndexName: GSI_BY_KIND, KeyConditionExpression: 'gsi2pk = :k', ExpressionAttributeValues: { ':k': kind } });
  return items.map(map);
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

  const table: TableClient = {
    tableName,
    concurrency,
    async get(key) {
      const r = await doc.send(new GetCommand({ TableName, Key: key, ConsistentRead: true }));
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
        out.push(...(r.Items ?? []));
        ExclusiveStartKey = r.LastEvaluatedKey;
      } while (ExclusiveStartKey && out.length < max);
      return out;
    },
    queryPage: async (input, cursor) => pageOf(await doc.send(new QueryCommand({ TableName, ...input, ExclusiveStartKey: decodeCursor(cursor) }))),
    async count(input) {
      let count = 0;
      let ExclusiveStartKey: Item | undefined;
      do {
        const r = await doc.send(new QueryCommand({ TableName, ...input, Select: 'COUNT', ExclusiveStartKey }));
        count += r.Count ?? 0;
        ExclusiveStartKey = r.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return count;
    },
    async batchGet(keys) {
      let request: Item[] = keys.map((k) => ({ ...k }));
      const found: Item[] = [];
      for (let attempt = 0; request.length > 0; attempt++) {
        const r = await doc.send(new BatchGetCommand({ RequestItems: { [TableName]: { Keys: request, ConsistentRead: true } } }));
        found.push(...(r.Responses?.[TableName] ?? []));
        request = (r.UnprocessedKeys?.[TableName]?.Keys as Item[] | undefined) ?? [];
        if (request.length && attempt > BATCH_RETRIES) throw new Error('BatchGetItem kept returning unprocessed keys');
        if (request.length) await backoff(attempt);
      }
      return found;
    },
    batchPut: (items) => batchWrite(items.map((Item) => ({ PutRequest: { Item } }))),
    batchDelete: (keys) => batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } }))),
    scanPage: async (input, cursor) => pageOf(await doc.send(new ScanCommand({ TableName, ...input, ExclusiveStartKey: decodeCursor(cursor) }))),
  };
  return table;
}
