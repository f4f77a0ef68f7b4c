// Computers (pk C#<computer>, sk #META) and what reads them together with their partitions.
import { indexKeys, ITEM_TYPE, KIND, keys, SWEEP_PARTITION } from '../table.ts';
import type { ComputerStore } from '../types.ts';
import { computerFromItem, partitionFromItem } from './items.ts';
import { computerPartitionsQuery, touchPartitions } from './partitions.ts';
import { keyOf, listKind, readItem, type TableClient } from './table-client.ts';

export function computerStore(table: TableClient): ComputerStore {
  return {
    createComputer: (c, now) =>
      table.create({
        ...keys.computer(c.computerId),
        type: ITEM_TYPE.computer,
        computerId: c.computerId,
        tokenHash: c.tokenHash,
        instantiationFrequencySeconds: c.instantiationFrequencySeconds,
        colour: c.colour,
        colourReason: c.colourReason,
        colourSince: now,
        createdAt: now,
        updatedAt: now,
        ...indexKeys.kind(KIND.computer, c.computerId),
      }),

    async updateComputer(id, patch, now) {
      const sets = ['updatedAt = :now'];
      const values: Record<string, unknown> = { ':now': now };
      if (patch.instantiationFrequencySeconds !== undefined) {
        sets.push('instantiationFrequencySeconds = :f');
        values[':f'] = patch.instantiationFrequencySeconds;
      }
      const old = await table.update({
        Key: keys.computer(id),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      });
      if (old === false || old === null) return null;
      const before = computerFromItem(old);
      if (patch.instantiationFrequencySeconds !== undefined && before.instantiationFrequencySeconds !== patch.instantiationFrequencySeconds) {
        const refs = await table.queryAll({ ...computerPartitionsQuery(id), ProjectionExpression: 'pk, sk', ConsistentRead: true });
        await touchPartitions(table, refs.map(keyOf), { computerFrequencySeconds: patch.instantiationFrequencySeconds }, now);
      }
      return { ...before, ...(patch.instantiationFrequencySeconds !== undefined ? { instantiationFrequencySeconds: patch.instantiationFrequencySeconds } : {}), updatedAt: now };
    },

    async setComputerToken(id, tokenHash, now) {
      const r = await table.update({
        Key: keys.computer(id),
        UpdateExpression: 'SET tokenHash = :h, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':h': tokenHash, ':now': now },
      });
      return r !== false;
    },

    getComputer: (id) => readItem(table, keys.computer(id), computerFromItem),
    listComputers: () => listKind(table, KIND.computer, computerFromItem),

    async getComputerWithPartitions(id) {
      const items = await table.queryAll({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.computer(id).pk },
        ConsistentRead: true,
      });
      const meta = items.find((i) => keys.isComputerSk(i.sk));
      if (!meta) return null;
      return { computer: computerFromItem(meta), partitions: items.filter((i) => keys.isPartitionSk(i.sk)).map(partitionFromItem) };
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
      const r = await table.update({
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
      const found = await table.batchGet([ck, pk]);
      const c = found.find((i) => i.sk === ck.sk);
      const p = found.find((i) => i.sk === pk.sk);
      return { computer: c ? computerFromItem(c) : null, partition: p ? partitionFromItem(p) : null };
    },
  };
}
