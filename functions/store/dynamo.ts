// DynamoDB single-table implementation of the Store. Single-item (conditional) writes and
// Batch{Get,Write}Item only: no transactions, no PartiQL, no Scan on any request path
// (dynalite and DynamoDB Local both run it).
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
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DEFAULT_INSTANTIATION_FREQUENCY_SECONDS } from '../domain/colours.ts';
import { DEFAULT_BANG_QUOTA_PER_DAY } from '../domain/quota.ts';
import { GSI_BY_KIND, GSI_BY_SR, GSI_BY_TREE, GSI_SWEEP, keys, SWEEP_PARTITION } from './table.ts';
import type {
  BangRecord,
  ColourFields,
  ComputerRecord,
  HistoryRecord,
  Page,
  PartitionRecord,
  PartitionRef,
  PutPartitionResult,
  ReportRecord,
  SoftwareReleaseRecord,
  Store,
  SweepItem,
} from './types.ts';

type Item = Record<string, any>;

const encodeCursor = (k: Item | undefined): string | undefined => (k ? Buffer.from(JSON.stringify(k)).toString('base64url') : undefined);
const decodeCursor = (c: string | undefined): Item | undefined => (c ? JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) : undefined);

function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** Run `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return out;
}

const s = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const n = (v: unknown): number | null => (typeof v === 'number' ? v : null);

function toSr(i: Item): SoftwareReleaseRecord {
  return {
    softwareReleaseId: i.softwareReleaseId,
    url: i.url,
    periodicitySeconds: n(i.periodicitySeconds),
    bangQuotaPerDay: n(i.bangQuotaPerDay) ?? DEFAULT_BANG_QUOTA_PER_DAY,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
  };
}

function colourFields(i: Item): ColourFields {
  return {
    colour: i.colour ?? 'red',
    colourReason: i.colourReason ?? '',
    colourSince: s(i.colourSince),
    sweepAt: s(i.gsi3sk),
  };
}

function toComputer(i: Item): ComputerRecord {
  return {
    computerId: i.computerId,
    tokenHash: i.tokenHash,
    instantiationFrequencySeconds: n(i.instantiationFrequencySeconds) ?? DEFAULT_INSTANTIATION_FREQUENCY_SECONDS,
    lastContactAt: s(i.lastContactAt),
    agentVersion: s(i.agentVersion),
    ...colourFields(i),
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
  };
}

function toPartition(i: Item): PartitionRecord {
  return {
    partitionId: i.partitionId,
    computerId: i.computerId,
    instanceTreeId: i.instanceTreeId,
    softwareReleaseId: i.softwareReleaseId,
    periodicitySeconds: n(i.periodicitySeconds),
    bangQuotaPerDay: n(i.bangQuotaPerDay) ?? DEFAULT_BANG_QUOTA_PER_DAY,
    computerFrequencySeconds: n(i.computerFrequencySeconds) ?? DEFAULT_INSTANTIATION_FREQUENCY_SECONDS,
    lastReport: i.lastReport ?? null,
    lastReportKey: s(i.lastReportKey),
    reprocessRequestedAt: s(i.reprocessRequestedAt),
    reprocessReason: s(i.reprocessReason),
    reprocessBangId: s(i.reprocessBangId),
    reprocessedUpTo: s(i.reprocessedUpTo),
    lastBangAt: s(i.lastBangAt),
    crimeState: i.crimeState ?? null,
    ...colourFields(i),
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
  };
}

function toBang(i: Item): BangRecord {
  return {
    bangId: i.bangId,
    partitionId: i.partitionId,
    computerId: i.computerId,
    instanceTreeId: i.instanceTreeId,
    message: i.message ?? '',
    source: i.source,
    createdAt: i.createdAt,
    fannedOutTo: n(i.fannedOutTo) ?? 0,
    fanOut: i.fanOut === 'done' ? 'done' : i.fanOut === 'rejected' ? 'rejected' : 'pending',
    fanOutCompletedAt: s(i.fanOutCompletedAt),
    accepted: i.accepted !== false,
  };
}

function toHistory(i: Item): HistoryRecord {
  const { pk: _pk, sk: _sk, type: _type, ...rest } = i;
  return rest as HistoryRecord;
}

export interface DynamoStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Parallel single-item writes when propagating to many partitions. */
  concurrency?: number;
}

export function createDynamoStore({ client, tableName, concurrency = 16 }: DynamoStoreOptions): Store {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const TableName = tableName;

  async function queryAll(input: Omit<QueryCommandInput, 'TableName'>, max = 100_000): Promise<Item[]> {
    const out: Item[] = [];
    let ExclusiveStartKey: Item | undefined;
    do {
      const r = await doc.send(new QueryCommand({ TableName, ...input, ExclusiveStartKey }));
      out.push(...(r.Items ?? []));
      ExclusiveStartKey = r.LastEvaluatedKey;
    } while (ExclusiveStartKey && out.length < max);
    return out;
  }

  async function get(key: Item): Promise<Item | null> {
    const r = await doc.send(new GetCommand({ TableName, Key: key, ConsistentRead: true }));
    return r.Item ?? null;
  }

  async function update(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<Item | null | false> {
    try {
      const r = await doc.send(new UpdateCommand({ TableName, ...input }));
      return r.Attributes ?? null;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async function findPartitionItem(partitionId: string): Promise<Item | null> {
    const r = await doc.send(
      new QueryCommand({
        TableName,
        IndexName: GSI_BY_KIND,
        KeyConditionExpression: 'gsi2pk = :k AND gsi2sk = :id',
        ExpressionAttributeValues: { ':k': 'PARTITION', ':id': partitionId },
      }),
    );
    const hit = r.Items?.[0];
    if (!hit) return null;
    // The index is eventually consistent: re-read the item itself.
    return get({ pk: hit.pk, sk: hit.sk });
  }

  /** Mark partitions as due for the sweep now and apply denormalized changes. */
  async function touchPartitions(refs: { pk: string; sk: string }[], set: Record<string, unknown>, now: string): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':sw': SWEEP_PARTITION, ':now': now };
    const parts = ['gsi3pk = :sw', 'gsi3sk = :now', 'updatedAt = :now'];
    Object.entries(set).forEach(([k, v], idx) => {
      names[`#a${idx}`] = k;
      values[`:v${idx}`] = v;
      parts.push(`#a${idx} = :v${idx}`);
    });
    await mapLimit(refs, concurrency, (ref) =>
      update({
        Key: { pk: ref.pk, sk: ref.sk },
        UpdateExpression: `SET ${parts.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
        ExpressionAttributeValues: values,
      }),
    );
  }

  const store: Store = {
    async putSoftwareRelease(sr, now) {
      const old = await update({
        Key: keys.softwareRelease(sr.softwareReleaseId),
        UpdateExpression:
          'SET #type = :type, softwareReleaseId = :id, #url = :url, periodicitySeconds = :p, bangQuotaPerDay = :q, updatedAt = :now, createdAt = if_not_exists(createdAt, :now), gsi2pk = :kind, gsi2sk = :id',
        ExpressionAttributeNames: { '#type': 'type', '#url': 'url' },
        ExpressionAttributeValues: {
          ':type': 'sr',
          ':id': sr.softwareReleaseId,
          ':url': sr.url,
          ':p': sr.periodicitySeconds,
          ':q': sr.bangQuotaPerDay,
          ':now': now,
          ':kind': 'SR',
        },
        ReturnValues: 'ALL_OLD',
      });
      const created = !old;
      if (old && (n(old.periodicitySeconds) !== sr.periodicitySeconds || n(old.bangQuotaPerDay) !== sr.bangQuotaPerDay)) {
        const refs = await queryAll({
          IndexName: GSI_BY_SR,
          KeyConditionExpression: 'gsi4pk = :k',
          ExpressionAttributeValues: { ':k': `SR#${sr.softwareReleaseId}` },
          ProjectionExpression: 'pk, sk',
        });
        await touchPartitions(refs as { pk: string; sk: string }[], { periodicitySeconds: sr.periodicitySeconds, bangQuotaPerDay: sr.bangQuotaPerDay }, now);
      }
      return {
        created,
        record: {
          ...sr,
          createdAt: old ? (old.createdAt as string) : now,
          updatedAt: now,
        },
      };
    },

    async getSoftwareRelease(id) {
      const i = await get(keys.softwareRelease(id));
      return i ? toSr(i) : null;
    },

    async listSoftwareReleases() {
      const items = await queryAll({ IndexName: GSI_BY_KIND, KeyConditionExpression: 'gsi2pk = :k', ExpressionAttributeValues: { ':k': 'SR' } });
      return items.map(toSr);
    },

    async createComputer(c, now) {
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.computer(c.computerId),
              type: 'computer',
              computerId: c.computerId,
              tokenHash: c.tokenHash,
              instantiationFrequencySeconds: c.instantiationFrequencySeconds,
              colour: 'red',
              colourReason: 'never contacted the master',
              colourSince: now,
              createdAt: now,
              updatedAt: now,
              gsi2pk: 'COMPUTER',
              gsi2sk: c.computerId,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },

    async updateComputer(id, patch, now) {
      const sets = ['updatedAt = :now'];
      const values: Record<string, unknown> = { ':now': now };
      if (patch.instantiationFrequencySeconds !== undefined) {
        sets.push('instantiationFrequencySeconds = :f');
        values[':f'] = patch.instantiationFrequencySeconds;
      }
      const old = await update({
        Key: keys.computer(id),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      });
      if (old === false || old === null) return null;
      if (patch.instantiationFrequencySeconds !== undefined && n(old.instantiationFrequencySeconds) !== patch.instantiationFrequencySeconds) {
        const refs = await queryAll({
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': keys.computer(id).pk, ':p': 'P#' },
          ProjectionExpression: 'pk, sk',
          ConsistentRead: true,
        });
        await touchPartitions(refs as { pk: string; sk: string }[], { computerFrequencySeconds: patch.instantiationFrequencySeconds }, now);
      }
      return toComputer({ ...old, ...(patch.instantiationFrequencySeconds !== undefined ? { instantiationFrequencySeconds: patch.instantiationFrequencySeconds } : {}), updatedAt: now });
    },

    async setComputerToken(id, tokenHash, now) {
      const r = await update({
        Key: keys.computer(id),
        UpdateExpression: 'SET tokenHash = :h, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':h': tokenHash, ':now': now },
      });
      return r !== false;
    },

    async getComputer(id) {
      const i = await get(keys.computer(id));
      return i ? toComputer(i) : null;
    },

    async listComputers() {
      const items = await queryAll({ IndexName: GSI_BY_KIND, KeyConditionExpression: 'gsi2pk = :k', ExpressionAttributeValues: { ':k': 'COMPUTER' } });
      return items.map(toComputer);
    },

    async getComputerWithPartitions(id) {
      const items = await queryAll({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.computer(id).pk },
        ConsistentRead: true,
      });
      const meta = items.find((i) => i.sk === '#META');
      if (!meta) return null;
      return { computer: toComputer(meta), partitions: items.filter((i) => typeof i.sk === 'string' && i.sk.startsWith('P#')).map(toPartition) };
    },

    async recordHeartbeat(id, hb) {
      const sets = ['lastContactAt = :at', 'agentVersion = :v'];
      const values: Record<string, unknown> = { ':at': hb.at, ':v': hb.agentVersion };
      let removes: string[] = [];
      if (hb.sweepAt) {
        sets.push('gsi3pk = :sw', 'gsi3sk = :due');
        values[':sw'] = SWEEP_PARTITION;
        values[':due'] = hb.sweepAt;
      } else if (hb.sweepAt === null) removes = ['gsi3pk', 'gsi3sk'];
      // undefined: the sweep key stays as it is (no index key rewrite).
      if (hb.colour) {
        sets.push('colour = :c', 'colourReason = :r', 'colourSince = :s');
        values[':c'] = hb.colour.colour;
        values[':r'] = hb.colour.colourReason;
        values[':s'] = hb.colour.colourSince;
      }
      const r = await update({
        Key: keys.computer(id),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: values,
      });
      if (r === false) throw new Error(`computer ${id} vanished during its heartbeat`);
    },

    async getComputerAndPartition(computerId, partitionId) {
      const ck = keys.computer(computerId);
      const pk = keys.partition(computerId, partitionId);
      let request: Item[] = [ck, pk];
      const found: Item[] = [];
      for (let attempt = 0; request.length > 0; attempt++) {
        const r = await doc.send(new BatchGetCommand({ RequestItems: { [TableName]: { Keys: request, ConsistentRead: true } } }));
        found.push(...(r.Responses?.[TableName] ?? []));
        request = (r.UnprocessedKeys?.[TableName]?.Keys as Item[] | undefined) ?? [];
        if (request.length && attempt > 5) throw new Error('BatchGetItem kept returning unprocessed keys');
        if (request.length) await new Promise((res) => setTimeout(res, 20 * 2 ** attempt));
      }
      const c = found.find((i) => i.sk === ck.sk);
      const p = found.find((i) => i.sk === pk.sk);
      return { computer: c ? toComputer(c) : null, partition: p ? toPartition(p) : null };
    },

    async putPartition(p, now) {
      const [computer, sr, existing] = await Promise.all([
        get(keys.computer(p.computerId)),
        get(keys.softwareRelease(p.softwareReleaseId)),
        findPartitionItem(p.partitionId),
      ]);
      if (!computer) return { missing: 'computer' };
      if (!sr) return { missing: 'softwareRelease' };
      const key = keys.partition(p.computerId, p.partitionId);
      const denorm = {
        type: 'partition',
        partitionId: p.partitionId,
        computerId: p.computerId,
        instanceTreeId: p.instanceTreeId,
        softwareReleaseId: p.softwareReleaseId,
        periodicitySeconds: n(sr.periodicitySeconds),
        bangQuotaPerDay: n(sr.bangQuotaPerDay) ?? DEFAULT_BANG_QUOTA_PER_DAY,
        computerFrequencySeconds: n(computer.instantiationFrequencySeconds) ?? DEFAULT_INSTANTIATION_FREQUENCY_SECONDS,
        updatedAt: now,
        gsi1pk: `T#${p.instanceTreeId}`,
        gsi1sk: `P#${p.partitionId}`,
        gsi2pk: 'PARTITION',
        gsi2sk: p.partitionId,
        gsi4pk: `SR#${p.softwareReleaseId}`,
        gsi4sk: `P#${p.partitionId}`,
      };
      if (existing && existing.pk !== key.pk) {
        // Moved to another computer: carry its state over, then drop the old item.
        const item: Item = { ...existing, ...denorm, ...key };
        if (existing.lastReport || existing.lastBangAt) {
          item.gsi3pk = SWEEP_PARTITION;
          item.gsi3sk = now;
        }
        await doc.send(new PutCommand({ TableName, Item: item }));
        await doc.send(new DeleteCommand({ TableName, Key: { pk: existing.pk, sk: existing.sk } }));
        return { created: false, record: toPartition(item) };
      }
      const names: Record<string, string> = { '#type': 'type' };
      const values: Record<string, unknown> = { ':red': 'red', ':noReport': 'no report yet', ':now': now };
      const sets = [
        'colour = if_not_exists(colour, :red)',
        'colourReason = if_not_exists(colourReason, :noReport)',
        'colourSince = if_not_exists(colourSince, :now)',
        'createdAt = if_not_exists(createdAt, :now)',
      ];
      Object.entries(denorm).forEach(([k, v], idx) => {
        const name = k === 'type' ? '#type' : `#d${idx}`;
        if (k !== 'type') names[name] = k;
        values[`:d${idx}`] = v;
        sets.push(`${name} = :d${idx}`);
      });
      if (existing) {
        sets.push('gsi3pk = :sw', 'gsi3sk = :now');
        values[':sw'] = SWEEP_PARTITION;
      }
      const after = await update({
        Key: key,
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      });
      if (!after) throw new Error('UpdateItem returned no attributes');
      return { created: !existing, record: toPartition(after) } satisfies PutPartitionResult;
    },

    async getPartition(partitionId) {
      const i = await findPartitionItem(partitionId);
      return i ? toPartition(i) : null;
    },

    async listPartitions(filter) {
      let items: Item[];
      if (filter.instanceTreeId) {
        items = await queryAll({ IndexName: GSI_BY_TREE, KeyConditionExpression: 'gsi1pk = :k', ExpressionAttributeValues: { ':k': `T#${filter.instanceTreeId}` } });
      } else if (filter.computerId) {
        items = await queryAll({
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': keys.computer(filter.computerId).pk, ':p': 'P#' },
        });
      } else {
        items = await queryAll({ IndexName: GSI_BY_KIND, KeyConditionExpression: 'gsi2pk = :k', ExpressionAttributeValues: { ':k': 'PARTITION' } });
      }
      return items.map(toPartition);
    },

    async writeReport(computerId, partitionId, w) {
      const sets = [
        'lastReport = :lr',
        'lastReportKey = :k',
        'crimeState = :cs',
        'colour = :c',
        'colourReason = :r',
        'colourSince = :s',
        'updatedAt = :now',
      ];
      const values: Record<string, unknown> = {
        ':lr': w.lastReport,
        ':k': w.lastReportKey,
        ':cs': w.crimeState,
        ':c': w.colour.colour,
        ':r': w.colour.colourReason,
        ':s': w.colour.colourSince,
        ':now': w.now,
      };
      let remove = '';
      if (w.colour.sweepAt) {
        sets.push('gsi3pk = :sw', 'gsi3sk = :due');
        values[':sw'] = SWEEP_PARTITION;
        values[':due'] = w.colour.sweepAt;
      } else remove = ' REMOVE gsi3pk, gsi3sk';
      if (w.reprocessedUpTo) {
        sets.push('reprocessedUpTo = :u');
        values[':u'] = w.reprocessedUpTo;
      }
      const r = await update({
        Key: keys.partition(computerId, partitionId),
        UpdateExpression: `SET ${sets.join(', ')}${remove}`,
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastReportKey) OR lastReportKey < :k)',
        ExpressionAttributeValues: values,
      });
      return r !== false;
    },

    async raiseReprocessedUpTo(computerId, partitionId, upTo) {
      await update({
        Key: keys.partition(computerId, partitionId),
        UpdateExpression: 'SET reprocessedUpTo = :u',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(reprocessedUpTo) OR reprocessedUpTo < :u)',
        ExpressionAttributeValues: { ':u': upTo },
      });
    },

    async putHistory(report, items) {
      const all: Item[] = [
        { pk: keys.historyPk(report.partitionId), sk: `~R#${report.startedAt}#${report.reportId}`, type: 'report', ...report },
        ...items.map((h) => ({ pk: keys.historyPk(h.partitionId), sk: `P#${h.name}#${h.date}#${h.reportId}`, type: 'history', ...h })),
      ];
      for (let i = 0; i < all.length; i += 25) {
        let requests: Item[] = all.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          const r = await doc.send(new BatchWriteCommand({ RequestItems: { [TableName]: requests as any } }));
          requests = (r.UnprocessedItems?.[TableName] as Item[] | undefined) ?? [];
          if (requests.length && attempt > 5) throw new Error('BatchWriteItem kept returning unprocessed items');
          if (requests.length) await new Promise((res) => setTimeout(res, 20 * 2 ** attempt));
        }
      }
    },

    async listHistory(partitionId, nowEpoch) {
      const items = await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.historyPk(partitionId) } }, 20_000);
      const live = items.filter((i) => typeof i.expiresAt !== 'number' || i.expiresAt > nowEpoch);
      return {
        results: live.filter((i) => i.type === 'history').map(toHistory),
        reports: live.filter((i) => i.type === 'report').map((i) => toHistory(i) as unknown as ReportRecord),
      };
    },

    async consumeBangQuota(partitionId, day, quota, expiresAt) {
      if (quota <= 0) return false;
      const r = await update({
        Key: keys.quota(partitionId, day),
        UpdateExpression: 'ADD used :one SET expiresAt = :exp, #type = :type',
        ConditionExpression: 'attribute_not_exists(used) OR used < :q',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':one': 1, ':exp': expiresAt, ':q': quota, ':type': 'quota' },
      });
      return r !== false;
    },

    async refundBangQuota(partitionId, day) {
      await update({
        Key: keys.quota(partitionId, day),
        UpdateExpression: 'ADD used :minus',
        ConditionExpression: 'attribute_exists(used) AND used > :zero',
        ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
      });
    },

    async createBang(b) {
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: { ...keys.bang(b.partitionId, b.bangId), type: 'bang', ...b, gsi2pk: 'BANG', gsi2sk: `${b.createdAt}#${b.partitionId}#${b.bangId}` },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    },

    async getBang(partitionId, bangId) {
      const i = await get(keys.bang(partitionId, bangId));
      return i ? toBang(i) : null;
    },

    async recordRejectedBang(b) {
      await doc.send(
        new PutCommand({
          TableName,
          Item: {
            pk: keys.bang(b.partitionId, b.bangId).pk,
            sk: `R#${b.createdAt}#${b.bangId}`,
            type: 'bang',
            ...b,
            gsi2pk: 'BANG',
            gsi2sk: `${b.createdAt}#${b.partitionId}#${b.bangId}`,
          },
        }),
      );
    },

    async completeBang(partitionId, bangId, fannedOutTo, at) {
      await update({
        Key: keys.bang(partitionId, bangId),
        UpdateExpression: 'SET fanOut = :done, fannedOutTo = :n, fanOutCompletedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':done': 'done', ':n': fannedOutTo, ':at': at },
      });
    },

    async listBangs(filter, limit) {
      let items: Item[];
      if (filter.partitionId) {
        items = await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.bang(filter.partitionId, 'x').pk } });
        items.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
        items = items.slice(0, limit);
      } else {
        items = await queryAll(
          { IndexName: GSI_BY_KIND, KeyConditionExpression: 'gsi2pk = :k', ExpressionAttributeValues: { ':k': 'BANG' }, ScanIndexForward: false, Limit: limit },
          limit,
        );
        items = items.slice(0, limit);
      }
      return items.map(toBang);
    },

    async markBanged(computerId, partitionId, at) {
      await update({
        Key: keys.partition(computerId, partitionId),
        UpdateExpression: 'SET lastBangAt = :t, gsi3pk = :sw, gsi3sk = :t',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastBangAt) OR lastBangAt < :t)',
        ExpressionAttributeValues: { ':t': at, ':sw': SWEEP_PARTITION },
      });
    },

    async countTreePartitions(instanceTreeId) {
      let count = 0;
      let ExclusiveStartKey: Item | undefined;
      do {
        const r = await doc.send(
          new QueryCommand({
            TableName,
            IndexName: GSI_BY_TREE,
            KeyConditionExpression: 'gsi1pk = :k',
            ExpressionAttributeValues: { ':k': `T#${instanceTreeId}` },
            Select: 'COUNT',
            ExclusiveStartKey,
          }),
        );
        count += r.Count ?? 0;
        ExclusiveStartKey = r.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return count;
    },

    async pageTreePartitions(instanceTreeId, cursor, limit = 500): Promise<Page<PartitionRef>> {
      const r = await doc.send(
        new QueryCommand({
          TableName,
          IndexName: GSI_BY_TREE,
          KeyConditionExpression: 'gsi1pk = :k',
          ExpressionAttributeValues: { ':k': `T#${instanceTreeId}` },
          ProjectionExpression: 'computerId, partitionId',
          Limit: limit,
          ExclusiveStartKey: decodeCursor(cursor),
        }),
      );
      const page: Page<PartitionRef> = { items: (r.Items ?? []).map((i) => ({ computerId: i.computerId, partitionId: i.partitionId })) };
      const next = encodeCursor(r.LastEvaluatedKey);
      if (next) page.cursor = next;
      return page;
    },

    async flagReprocess(ref, flag) {
      const r = await update({
        Key: keys.partition(ref.computerId, ref.partitionId),
        UpdateExpression: 'SET reprocessRequestedAt = :t, reprocessReason = :r, reprocessBangId = :b, gsi3pk = :sw, gsi3sk = :t',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(reprocessRequestedAt) OR reprocessRequestedAt < :t) AND (attribute_not_exists(reprocessedUpTo) OR reprocessedUpTo < :t)',
        ExpressionAttributeValues: { ':t': flag.requestedAt, ':r': flag.reason, ':b': flag.bangId, ':sw': SWEEP_PARTITION },
      });
      return r !== false;
    },

    async pageSweepDue(now, cursor): Promise<Page<SweepItem>> {
      const r = await doc.send(
        new QueryCommand({
          TableName,
          IndexName: GSI_SWEEP,
          KeyConditionExpression: 'gsi3pk = :k AND gsi3sk <= :now',
          ExpressionAttributeValues: { ':k': SWEEP_PARTITION, ':now': now },
          Limit: 200,
          ExclusiveStartKey: decodeCursor(cursor),
        }),
      );
      const items: SweepItem[] = [];
      for (const i of r.Items ?? []) {
        if (i.type === 'computer') items.push({ type: 'computer', record: toComputer(i) });
        else if (i.type === 'partition') items.push({ type: 'partition', record: toPartition(i) });
      }
      const page: Page<SweepItem> = { items };
      const next = encodeCursor(r.LastEvaluatedKey);
      if (next) page.cursor = next;
      return page;
    },

    async recordColour(item, c, now) {
      const key = item.type === 'computer' ? keys.computer(item.record.computerId) : keys.partition(item.record.computerId, item.record.partitionId);
      void now;
      const values: Record<string, unknown> = { ':c': c.colour, ':r': c.colourReason, ':s': c.colourSince, ':seen': item.record.sweepAt };
      let expr = 'SET colour = :c, colourReason = :r, colourSince = :s';
      if (c.sweepAt) {
        expr += ', gsi3sk = :due';
        values[':due'] = c.sweepAt;
      } else expr += ' REMOVE gsi3pk, gsi3sk';
      // The verdict was computed from the (eventually consistent) index: write it only if the
      // item is still the one read. A heartbeat may leave the sweep key as it is, so for a
      // computer the last contact is checked too.
      let cond = 'gsi3sk = :seen';
      if (item.type === 'computer') {
        if (item.record.lastContactAt) {
          cond += ' AND lastContactAt = :lc';
          values[':lc'] = item.record.lastContactAt;
        } else cond += ' AND attribute_not_exists(lastContactAt)';
      }
      const r = await update({ Key: key, UpdateExpression: expr, ConditionExpression: cond, ExpressionAttributeValues: values });
      return r !== false;
    },

    async createSession(session) {
      await doc.send(
        new PutCommand({
          TableName,
          Item: { ...keys.session(session.sessionKey), type: 'session', ...session },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    },

    async getSession(sessionKey) {
      const i = await get(keys.session(sessionKey));
      if (!i || typeof i.mac !== 'string' || typeof i.expiresAt !== 'number') return null;
      return { sessionKey, mac: i.mac, createdAt: String(i.createdAt ?? ''), expiresAt: i.expiresAt };
    },

    async deleteSession(sessionKey) {
      await doc.send(new DeleteCommand({ TableName, Key: keys.session(sessionKey) }));
    },

    async expireItems(nowEpoch) {
      let deleted = 0;
      let ExclusiveStartKey: Item | undefined;
      do {
        const r = await doc.send(
          new ScanCommand({
            TableName,
            FilterExpression: 'expiresAt <= :now',
            ExpressionAttributeValues: { ':now': nowEpoch },
            ProjectionExpression: 'pk, sk',
            ExclusiveStartKey,
          }),
        );
        const ks = r.Items ?? [];
        for (let i = 0; i < ks.length; i += 25) {
          await doc.send(
            new BatchWriteCommand({ RequestItems: { [TableName]: ks.slice(i, i + 25).map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } })) } }),
          );
        }
        deleted += ks.length;
        ExclusiveStartKey = r.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return deleted;
    },
  };
  return store;
}
