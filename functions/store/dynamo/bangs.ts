// Bangs (pk B#<partition>: accepted ones under B#<bangId>, rejected ones logged under
// R#<time>#<bangId>), the daily quota counters (pk Q#<partition>, sk D#<day>) and the
// partition writes a bang makes (its own mark, the fan-out's reprocess flags).
import { withinQuota } from '../../domain/quota.ts';
import type { BangRecord } from '../../domain/records.ts';
import { GSI_BANGS, GSI_PARTITION_BANGS, INDEX_ATTR as A, INDEX_PK, type IndexName, indexKeys, keys } from '../table.ts';
import type { BangStore } from '../types.ts';
import { raiseHint } from './computers.ts';
import { bangFromItem, ms, P } from './items.ts';
import { mapItems, readItem, type TableClient } from './table-client.ts';

const bangItem = (b: BangRecord) => ({ ...b, ...indexKeys.bang(b.createdAt, b.partitionId, b.bangId) });

export function bangStore(table: TableClient): BangStore {
  return {
    async consumeBangQuota(partitionId, day, quota, expiresAt) {
      if (!withinQuota(0, quota)) return false;
      const r = await table.update({
        Key: keys.quota(partitionId, day),
        UpdateExpression: 'ADD used :one SET expiresAt = :exp',
        ConditionExpression: 'attribute_not_exists(used) OR used < :q',
        ExpressionAttributeValues: { ':one': 1, ':exp': expiresAt, ':q': quota },
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

    listBangs: (filter, page) => {
      const query: { index: IndexName; attr: string; value: string } = filter.partitionId
        ? { index: GSI_PARTITION_BANGS, attr: A.bangPartition, value: filter.partitionId }
        : { index: GSI_BANGS, attr: A.bangLog, value: INDEX_PK.bangLog };
      return table.listPage({
        scope: `bangs?${filter.partitionId ?? ''}`,
        index: query.index,
        query: { KeyConditionExpression: '#k = :k', ExpressionAttributeNames: { '#k': query.attr }, ExpressionAttributeValues: { ':k': query.value }, ScanIndexForward: false },
        bounds: { fixed: { [query.attr]: query.value } },
        load: mapItems(bangFromItem),
        ...page,
      });
    },

    async markBanged(computerId, partitionId, at) {
      await table.update({
        Key: keys.partition(computerId, partitionId),
        UpdateExpression: 'SET #lb = :t, #sw = :sw, #sd = :at',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#lb) OR #lb < :t)',
        ExpressionAttributeNames: { '#lb': P.lastBang, '#sw': A.sweep, '#sd': A.sweepDue },
        ExpressionAttributeValues: { ':t': ms(at), ':at': at, ':sw': INDEX_PK.sweep },
      });
    },

    async flagReprocess(ref, flag) {
      // the partition turns red (a bang after its last report): due for the sweep now, which records it
      const r = await table.update({
        Key: keys.partition(ref.computerId, ref.partitionId),
        UpdateExpression: 'SET #rq = :t, #rr = :r, #rb = :b, #sw = :sw, #sd = :at',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#rq) OR #rq < :t) AND (attribute_not_exists(#ru) OR #ru < :t)',
        ExpressionAttributeNames: { '#rq': P.reprocessAt, '#rr': P.reprocessReason, '#rb': P.reprocessBang, '#ru': P.reprocessedUpTo, '#sw': A.sweep, '#sd': A.sweepDue },
        ExpressionAttributeValues: { ':t': ms(flag.requestedAt), ':at': flag.requestedAt, ':r': flag.reason, ':b': flag.bangId, ':sw': INDEX_PK.sweep },
      });
      return r !== false;
    },

    // after the flags (a heartbeat that saw this hint reads them; see ComputerStore.clearReprocessHint)
    raiseReprocessHint: (computerId) => raiseHint(table, computerId),
  };
}
