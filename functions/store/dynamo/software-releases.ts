// Software releases (pk SR#<sr>, sk #META). A change of periodicity or quota is written
// through to their partitions (bySr index), which carry them denormalized.
import { GSI_BY_SR, indexKeys, ITEM_TYPE, KIND, keys } from '../table.ts';
import type { SoftwareReleaseStore } from '../types.ts';
import { softwareReleaseFromItem } from './items.ts';
import { touchPartitions } from './partitions.ts';
import { keyOf, listKind, readItem, type TableClient } from './table-client.ts';

export function softwareReleaseStore(table: TableClient): SoftwareReleaseStore {
  return {
    async putSoftwareRelease(sr, now) {
      const oldItem = await table.update({
        Key: keys.softwareRelease(sr.softwareReleaseId),
        UpdateExpression:
          'SET #type = :type, softwareReleaseId = :id, #url = :url, periodicitySeconds = :p, bangQuotaPerDay = :q, updatedAt = :now, createdAt = if_not_exists(createdAt, :now), gsi2pk = :kind, gsi2sk = :id',
        ExpressionAttributeNames: { '#type': 'type', '#url': 'url' },
        ExpressionAttributeValues: {
          ':type': ITEM_TYPE.softwareRelease,
          ':id': sr.softwareReleaseId,
          ':url': sr.url,
          ':p': sr.periodicitySeconds,
          ':q': sr.bangQuotaPerDay,
          ':now': now,
          ':kind': indexKeys.kind(KIND.softwareRelease, sr.softwareReleaseId).gsi2pk,
        },
        ReturnValues: 'ALL_OLD',
      });
      const old = oldItem ? softwareReleaseFromItem(oldItem) : null;
      if (old && (old.periodicitySeconds !== sr.periodicitySeconds || old.bangQuotaPerDay !== sr.bangQuotaPerDay)) {
        const refs = await table.queryAll({
          IndexName: GSI_BY_SR,
          KeyConditionExpression: 'gsi4pk = :k',
          ExpressionAttributeValues: { ':k': indexKeys.srPk(sr.softwareReleaseId) },
          ProjectionExpression: 'pk, sk',
        });
        await touchPartitions(table, refs.map(keyOf), { periodicitySeconds: sr.periodicitySeconds, bangQuotaPerDay: sr.bangQuotaPerDay }, now);
      }
      return { created: !old, record: { ...sr, createdAt: old ? old.createdAt : now, updatedAt: now } };
    },

    getSoftwareRelease: (id) => readItem(table, keys.softwareRelease(id), softwareReleaseFromItem),
    listSoftwareReleases: () => listKind(table, KIND.softwareRelease, softwareReleaseFromItem),
  };
}
