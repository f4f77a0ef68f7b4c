// Partitions: items under their computer (pk C#<computer>, sk P#<partition>), in the byTree,
// byKind and bySr indexes. SR settings and the computer frequency are denormalized into them.
import { mapLimit } from '../../lib/concurrency.ts';
import { GSI_BY_KIND, GSI_BY_TREE, indexKeys, ITEM_TYPE, KIND, keys, SWEEP_PARTITION } from '../table.ts';
import type { InitialColour, PartitionRef, PartitionStore, PutPartitionResult } from '../types.ts';
import { computerFromItem, partitionFromItem, softwareReleaseFromItem } from './items.ts';
import { type Item, type Key, keyOf, listKind, type TableClient } from './table-client.ts';

/** The partition item of `partitionId`, wherever its computer is (byKind, then a consistent read). */
export async function findPartitionItem(table: TableClient, partitionId: string): Promise<Item | null> {
  const page = await table.queryPage({
    IndexName: GSI_BY_KIND,
    KeyConditionExpression: 'gsi2pk = :k AND gsi2sk = :id',
    ExpressionAttributeValues: { ':k': KIND.partition, ':id': partitionId },
  });
  const hit = page.items[0];
  if (!hit) return null;
  // The index is eventually consistent: re-read the item itself.
  return table.get(keyOf(hit));
}

/** The keys of a computer's partition items. */
export function computerPartitionsQuery(computerId: string) {
  return {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': keys.computer(computerId).pk, ':p': keys.partitionSkPrefix },
  };
}

/** Mark partitions as due for the sweep now and apply denormalized changes. */
export async function touchPartitions(table: TableClient, refs: Key[], set: Record<string, unknown>, now: string): Promise<void> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':sw': SWEEP_PARTITION, ':now': now };
  const parts = ['gsi3pk = :sw', 'gsi3sk = :now', 'updatedAt = :now'];
  Object.entries(set).forEach(([k, v], idx) => {
    names[`#a${idx}`] = k;
    values[`:v${idx}`] = v;
    parts.push(`#a${idx} = :v${idx}`);
  });
  await mapLimit(refs, table.concurrency, (ref) =>
    table.update({
      Key: ref,
      UpdateExpression: `SET ${parts.join(', ')}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
      ExpressionAttributeValues: values,
    }),
  );
}

async function putPartition(
  table: TableClient,
  p: { partitionId: string; computerId: string; instanceTreeId: string; softwareReleaseId: string },
  now: string,
  initial: InitialColour,
): Promise<PutPartitionResult> {
  const [computerItem, srItem, existing] = await Promise.all([
    table.get(keys.computer(p.computerId)),
    table.get(keys.softwareRelease(p.softwareReleaseId)),
    findPartitionItem(table, p.partitionId),
  ]);
  if (!computerItem) return { missing: 'computer' };
  if (!srItem) return { missing: 'softwareRelease' };
  const computer = computerFromItem(computerItem);
  const sr = softwareReleaseFromItem(srItem);
  const key = keys.partition(p.computerId, p.partitionId);
  const denorm = {
    type: ITEM_TYPE.partition,
    partitionId: p.partitionId,
    computerId: p.computerId,
    instanceTreeId: p.instanceTreeId,
    softwareReleaseId: p.softwareReleaseId,
    periodicitySeconds: sr.periodicitySeconds,
    bangQuotaPerDay: sr.bangQuotaPerDay,
    computerFrequencySeconds: computer.instantiationFrequencySeconds,
    updatedAt: now,
    ...indexKeys.tree(p.instanceTreeId, p.partitionId),
    ...indexKeys.kind(KIND.partition, p.partitionId),
    ...indexKeys.softwareRelease(p.softwareReleaseId, p.partitionId),
  };
  if (existing && existing.pk !== key.pk) {
    // Moved to another computer: carry its state over, then drop the old item.
    const item: Item = { ...existing, ...denorm, ...key };
    if (existing.lastReport || existing.lastBangAt) Object.assign(item, indexKeys.sweep(now));
    await table.put(item);
    await table.delete(keyOf(existing));
    return { created: false, record: partitionFromItem(item) };
  }
  const names: Record<string, string> = { '#type': 'type' };
  const values: Record<string, unknown> = { ':initialColour': initial.colour, ':initialReason': initial.colourReason, ':now': now };
  const sets = [
    'colour = if_not_exists(colour, :initialColour)',
    'colourReason = if_not_exists(colourReason, :initialReason)',
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
  const after = await table.update({
    Key: key,
    UpdateExpression: `SET ${sets.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: 'ALL_NEW',
  });
  if (!after) throw new Error('UpdateItem returned no attributes');
  return { created: !existing, record: partitionFromItem(after) };
}

export function partitionStore(table: TableClient): PartitionStore {
  return {
    putPartition: (p, now, initial) => putPartition(table, p, now, initial),

    async getPartition(partitionId) {
      const i = await findPartitionItem(table, partitionId);
      return i ? partitionFromItem(i) : null;
    },

    async listPartitions(filter) {
      let items: Item[];
      if (filter.instanceTreeId) {
        items = await table.queryAll({
          IndexName: GSI_BY_TREE,
          KeyConditionExpression: 'gsi1pk = :k',
          ExpressionAttributeValues: { ':k': indexKeys.treePk(filter.instanceTreeId) },
        });
      } else if (filter.computerId) {
        items = await table.queryAll(computerPartitionsQuery(filter.computerId));
      } else {
        return listKind(table, KIND.partition, partitionFromItem);
      }
      return items.map(partitionFromItem);
    },

    countTreePartitions: (instanceTreeId) =>
      table.count({ IndexName: GSI_BY_TREE, KeyConditionExpression: 'gsi1pk = :k', ExpressionAttributeValues: { ':k': indexKeys.treePk(instanceTreeId) } }),

    async pageTreePartitions(instanceTreeId, cursor, limit = 500) {
      const page = await table.queryPage(
        {
          IndexName: GSI_BY_TREE,
          KeyConditionExpression: 'gsi1pk = :k',
          ExpressionAttributeValues: { ':k': indexKeys.treePk(instanceTreeId) },
          ProjectionExpression: 'computerId, partitionId',
          Limit: limit,
        },
        cursor,
      );
      const items: PartitionRef[] = page.items.map((i) => ({ computerId: String(i.computerId), partitionId: String(i.partitionId) }));
      return page.cursor ? { items, cursor: page.cursor } : { items };
    },
  };
}
