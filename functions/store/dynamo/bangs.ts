// Bangs (pk B#<partition>: accepted ones under B#<bangId>, rejected ones logged under
// R#<time>#<bangId>), the daily quota counters (pk Q#<partition>, sk D#<day>) and the
// partition writes a bang makes (its own mark, the fan-out's reprocess flags).
import { withinQuota } from '../../domain/quota.ts';
import type { BangRecord } from '../../domain/records.ts';
import { GSI_BY_KIND, indexKeys, ITEM_TYPE, KIND, keys, SWEEP_PARTITION } from '../table.ts';
import type { BangStore } from '../types.ts';
import { bangFromItem } from './items.ts';
import { type Item, readItem, type TableClient } from './table-client.ts';

const bangItem = (b: BangRecord) => ({ type: ITEM_TYPE.bang, ...b, ...indexKeys.kind(KIND.bang, indexKeys.bangOrder(b.createdAt, b.partitionId, b.bangId)) });

export function bangStore(table: TableClient): BangStore {
  return {
    async consumeBangQuota(partitionId, day, quota, expiresAt) {
      if (!withinQuota(0, quota)) return false;
      const r = await table.update({
        Key: keys.quota(partitionId, day),
        UpdateExpression: 'ADD used :one SET expiresAt = :exp, #type = :type',
        ConditionExpression: 'attribute_not_exists(used) OR used < :q',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':one': 1, ':exp': expiresAt, ':q': quota, ':type': ITEM_TYPE.quota },
      });
      return r !== false;
    },

    async refundBangQuota(partitionId, day) {
      await table.update({
        Key: keys.quota(partitionId, day),
        UpdateExpression: 'ADD used :minus',
        ConditionExpression: 'attribute_exists(used) AND used > :zero',
        ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
      });
    },

    async bangQuotaUsed(partitionId, day) {
      const i = await table.get(keys.quota(partitionId, day));
      return typeof i?.used === 'number' ? i.used : 0;
    },

    createBang: (b) => table.create({ ...keys.bang(b.partitionId, b.bangId), ...bangItem(b) }),

    getBang: (partitionId, bangId) => readItem(table, keys.bang(partitionId, bangId), bangFromItem),

    recordRejectedBang: (b) => table.put({ ...keys.rejectedBang(b.partitionId, b.createdAt, b.bangId), ...bangItem(b) }),

    async completeBang(partitionId, bangId, fannedOutTo, at) {
      await table.update({
        Key: keys.bang(partitionId, bangId),
        UpdateExpression: 'SET fanOut = :done, fannedOutTo = :n, fanOutCompletedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':done': 'done', ':n': fannedOutTo, ':at': at },
      });
    },

    async listBangs(filter, limit) {
      let items: Item[];
      if (filter.partitionId) {
        items = await table.queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.bangsPk(filter.partitionId) } });
        items = items.map((i) => ({ i, at: String(i.createdAt) })).sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).map(({ i }) => i);
      } else {
        items = await table.queryAll(
          { IndexName: GSI_BY_KIND, KeyConditionExpression: 'gsi2pk = :k', ExpressionAttributeValues: { ':k': KIND.bang }, ScanIndexForward: false, Limit: limit },
          limit,
        );
      }
      return items.slice(0, limit).map(bangFromItem);
    },

    async markBanged(computerId, partitionId, at) {
      await table.update({
        Key: keys.partition(computerId, partitionId),
        UpdateExpression: 'SET lastBangAt = :t, gsi3pk = :sw, gsi3sk = :t',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastBangAt) OR lastBangAt < :t)',
        ExpressionAttributeValues: { ':t': at, ':sw': SWEEP_PARTITION },
      });
    },

    async flagReprocess(ref, flag) {
      const r = await table.update({
        Key: keys.partition(ref.computerId, ref.partitionId),
        UpdateExpression: 'SET reprocessRequestedAt = :t, reprocessReason = :r, reprocessBangId = :b, gsi3pk = :sw, gsi3sk = :t',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(reprocessRequestedAt) OR reprocessRequestedAt < :t) AND (attribute_not_exists(reprocessedUpTo) OR reprocessedUpTo < :t)',
        ExpressionAttributeValues: { ':t': flag.requestedAt, ':r': flag.reason, ':b': flag.bangId, ':sw': SWEEP_PARTITION },
      });
      return r !== false;
    },
  };
}
