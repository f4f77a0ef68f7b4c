// Software releases (one collection: pk SRS, sk = id). A change of periodicity or quota is
// written through to their partitions (the SR index), which carry them denormalized; a new
// periodicity also changes what their computers' heartbeats answer (assignment version).
import { GSI_SR, INDEX_ATTR as A, keys } from '../table.ts';
import type { SoftwareReleaseStore } from '../types.ts';
import { bumpAssignments } from './computers.ts';
import { P, softwareReleaseFromItem } from './items.ts';
import { touchPartitions } from './partitions.ts';
import { keyOf, mapItems, readItem, type TableClient } from './table-client.ts';

export function softwareReleaseStore(table: TableClient): SoftwareReleaseStore {
  return {
    async putSoftwareRelease(sr, now) {
      const oldItem = await table.update({
        Key: keys.softwareRelease(sr.softwareReleaseId),
        UpdateExpression: 'SET #url = :url, periodicitySeconds = :p, bangQuotaPerDay = :q, updatedAt = :now, createdAt = if_not_exists(createdAt, :now)',
        ExpressionAttributeNames: { '#url': 'url' },
        ExpressionAttributeValues: { ':url': sr.url, ':p': sr.periodicitySeconds, ':q': sr.bangQuotaPerDay, ':now': now },
        ReturnValues: 'ALL_OLD',
      });
      const old = oldItem ? softwareReleaseFromItem(oldItem) : null;
      if (old && (old.periodicitySeconds !== sr.periodicitySeconds || old.bangQuotaPerDay !== sr.bangQuotaPerDay)) {
        const refs = await table.queryAll({
          IndexName: GSI_SR,
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': A.softwareRelease },
          ExpressionAttributeValues: { ':s': sr.softwareReleaseId },
        });
        await touchPartitions(table, refs.map(keyOf), { [P.periodicity]: sr.periodicitySeconds, [P.quota]: sr.bangQuotaPerDay }, now);
        if (old.periodicitySeconds !== sr.periodicitySeconds) {
          await bumpAssignments(
            table,
            refs.map((r) => keys.partitionRef(r.pk, r.sk)?.computerId ?? '').filter((id) => id !== ''),
          );
        }
      }
      return { created: !old, record: { ...sr, createdAt: old ? old.createdAt : now, updatedAt: now } };
    },

    getSoftwareRelease: (id) => readItem(table, keys.softwareRelease(id), softwareReleaseFromItem),

    listSoftwareReleases: (page) =>
      table.listPage({
        scope: 'software-releases',
        query: { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.softwareReleasesPk } },
        bounds: { fixed: { pk: keys.softwareReleasesPk } },
        load: mapItems(softwareReleaseFromItem),
        ...page,
      }),
  };
}
