// DynamoDB capacity units, MEASURED: an SDK middleware asks for
// ReturnConsumedCapacity=INDEXES on every request and adds up what the endpoint answers
// (DynamoDB Local computes units like DynamoDB: 1 write unit per KB written, per item and per
// index entry touched; 1 read unit per 4 KB read strongly consistent, half that eventually
// consistent). Used by bench/capacity.bench.ts and the capacity budget tests (SPEC §5).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface Units {
  read: number;
  write: number;
  /** Units per target: the table (`table`) and each index by name. */
  byTarget: Record<string, { read: number; write: number }>;
  /** Requests per command name. */
  requests: Record<string, number>;
  /**
   * Conditional writes refused (ConditionalCheckFailed). DynamoDB still bills them (the
   * size of the item, at least 1 write unit); DynamoDB Local reports no units for them, so
   * they are counted here as 1 write unit each and listed apart.
   */
  refusedWrites: number;
  /** Wall time spent waiting for DynamoDB (ms), all requests. */
  dynamoMs: number;
}

export interface CapacityMeter {
  /** Units since the last reset. */
  units(): Units;
  reset(): void;
  /** Reset, run `fn`, return its units (calls must not overlap with other metered work). */
  measure<T>(fn: () => Promise<T>): Promise<{ result: T; units: Units }>;
}

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);
const DOC_TO_LOW: Record<string, string> = {
  GetCommand: 'GetItemCommand',
  PutCommand: 'PutItemCommand',
  UpdateCommand: 'UpdateItemCommand',
  DeleteCommand: 'DeleteItemCommand',
  BatchGetCommand: 'BatchGetItemCommand',
  BatchWriteCommand: 'BatchWriteItemCommand',
  TransactGetCommand: 'TransactGetItemsCommand',
  TransactWriteCommand: 'TransactWriteItemsCommand',
};

interface Consumed {
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
  LocalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

function empty(): Units {
  return { read: 0, write: 0, byTarget: {}, requests: {}, refusedWrites: 0, dynamoMs: 0 };
}

/** Install the meter on a client (and so on every DynamoDBDocumentClient built from it). */
export function meterCapacity(client: DynamoDBClient): CapacityMeter {
  let acc = empty();
  const add = (kind: 'read' | 'write', target: string, n: number) => {
    acc[kind] += n;
    const t = acc.byTarget[target] ?? { read: 0, write: 0 };
    t[kind] += n;
    acc.byTarget[target] = t;
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const raw = String((context as { commandName?: string }).commandName ?? 'unknown');
      const name = DOC_TO_LOW[raw] ?? raw;
      const kind = READS.has(name) ? 'read' : WRITES.has(name) ? 'write' : null;
      if (kind) (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'INDEXES';
      acc.requests[name] = (acc.requests[name] ?? 0) + 1;
      const started = performance.now();
      try {
        const out = await next(args);
        acc.dynamoMs += performance.now() - started;
        if (kind) {
          const cc = (out.output as { ConsumedCapacity?: Consumed | Consumed[] }).ConsumedCapacity;
          for (const c of Array.isArray(cc) ? cc : cc ? [cc] : []) {
            add(kind, 'table', c.Table?.CapacityUnits ?? (c.GlobalSecondaryIndexes ? 0 : (c.CapacityUnits ?? 0)));
            for (const [idx, v] of Object.entries({ ...c.GlobalSecondaryIndexes, ...c.LocalSecondaryIndexes })) add(kind, idx, v.CapacityUnits ?? 0);
          }
        }
        return out;
      } catch (err) {
        acc.dynamoMs += performance.now() - started;
        if (kind === 'write' && (err as { name?: string }).name === 'ConditionalCheckFailedException') {
          acc.refusedWrites++;
          add('write', 'table', 1);
        }
        throw err;
      }
    },
    { step: 'initialize', name: 'vigilCapacityMeter' },
  );
  return {
    units: () => structuredClone(acc),
    reset: () => {
      acc = empty();
    },
    async measure(fn) {
      acc = empty();
      const result = await fn();
      return { result, units: structuredClone(acc) };
    },
  };
}

/** Units averaged over `n` calls. */
export function perCall(u: Units, n: number): Units {
  const byTarget: Units['byTarget'] = {};
  for (const [k, v] of Object.entries(u.byTarget)) byTarget[k] = { read: v.read / n, write: v.write / n };
  const requests: Units['requests'] = {};
  for (const [k, v] of Object.entries(u.requests)) requests[k] = v / n;
  return { read: u.read / n, write: u.write / n, byTarget, requests, refusedWrites: u.refusedWrites / n, dynamoMs: u.dynamoMs / n };
}

/**
 * The size DynamoDB bills an item at (the documented rules, approximately): attribute names
 * and values in UTF-8 bytes, numbers about one byte per two significant digits plus one,
 * binary its length, booleans and nulls one byte, lists and maps 3 bytes plus one per element.
 */
export function itemBytes(item: Record<string, unknown>): number {
  const value = (v: unknown): number => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (typeof v === 'number') {
      const digits = String(Math.abs(v)).replace('.', '').replace(/^0+/, '').replace(/e.*$/, '').length;
      return Math.ceil(digits / 2) + 1;
    }
    if (typeof v === 'boolean' || v === null || v === undefined) return 1;
    if (v instanceof Uint8Array) return v.length;
    if (Array.isArray(v)) return 3 + v.reduce((n: number, x) => n + 1 + value(x), 0);
    if (v instanceof Set) return [...v].reduce((n: number, x) => n + value(x), 0);
    if (typeof v === 'object') return 3 + Object.entries(v).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + value(x), 0);
    return 0;
  };
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + value(v), 0);
}
