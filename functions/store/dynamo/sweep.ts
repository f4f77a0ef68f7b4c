// The sparse sweep index (partitions whose colour may change by itself, keyed lazily by when),
// the sweep's conditional colour writes, the fleet summary item; plus the local TTL emulation
// (a Scan).
import { GSI_RED, GSI_SWEEP, INDEX_ATTR as A, INDEX_PK, keys } from '../table.ts';
import type { MaintenanceStore, SweepStore } from '../types.ts';
import { colourCode, ms, P, partitionFromItem, summaryRecordFromItem } from './items.ts';
import { notifyStateUpdate, redIndexUpdate } from './partitions.ts';
import { keyOf, loadItems, type TableClient } from './table-client.ts';

/** Partitions read per sweep page. */
const SWEEP_PAGE = 200;

export function sweepStore(table: TableClient): SweepStore {
  return {
    pageSweepDue: (now, cursor) =>
      table.listPage({
        scope: 'sweep',
        index: GSI_SWEEP,
        query: {
          KeyConditionExpression: '#sw = :sw AND #sd <= :now',
          ExpressionAttributeNames: { '#sw': A.sweep, '#sd': A.sweepDue },
          ExpressionAttributeValues: { ':sw': INDEX_PK.sweep, ':now': now },
        },
        bounds: { fixed: { [A.sweep]: INDEX_PK.sweep } },
        load: loadItems(table, partitionFromItem),
        limit: SWEEP_PAGE,
        cursor,
      }),

    async recordPartitionColour(p, c, sweepAt, notify) {
      const names: Record<string, string> = { '#c': P.colour, '#cs': P.colourSince, '#sd': A.sweepDue, '#lk': P.lastReportKey };
      const values: Record<string, unknown> = { ':c': colourCode(c.colour), ':cs': c.colourSince === null ? null : ms(c.colourSince), ':seen': p.sweepAt };
      const sets = ['#c = :c', '#cs = :cs'];
      const removes: string[] = [];
      if (sweepAt) {
        sets.push('#sd = :due');
        values[':due'] = sweepAt;
      } else {
        names['#sw'] = A.sweep;
        removes.push('#sw', '#sd');
      }
      const red = redIndexUpdate(p, c.colour === 'red', names, values);
      sets.push(...red.set);
      removes.push(...red.remove);
      // The verdict was computed from an eventually consistent read: write it only if the
      // partition is still the one read (a report may keep the lazy sweep key as it is).
      let cond = '#sd = :seen';
      if (p.lastReportKey) {
        cond += ' AND #lk = :lk';
        values[':lk'] = p.lastReportKey;
      } else cond += ' AND attribute_not_exists(#lk)';
      if (notify) {
        const n = notifyStateUpdate(p, notify, names, values);
        sets.push(...n.set);
        cond += ` AND ${n.cond.join(' AND ')}`;
      }
      const r = await table.update({
        Key: keys.partition(p.computerId, p.partitionId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: cond,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
      return r !== false;
    },

    countRedPartitions: () =>
      table.count({ IndexName: GSI_RED, KeyConditionExpression: '#x = :x', ExpressionAttributeNames: { '#x': A.red }, ExpressionAttributeValues: { ':x': INDEX_PK.red } }),

    async putSummary(s) {
      await table.update({
        Key: keys.summary,
        UpdateExpression: 'SET cg = :g, co = :o, cr = :r, pr = :pr, asOf = :at',
        ExpressionAttributeValues: { ':g': s.computers.green, ':o': s.computers.orange, ':r': s.computers.red, ':pr': s.partitionsRed, ':at': s.asOf },
      });
    },

    async getSummary() {
      const i = await table.get(keys.summary, false);
      return i ? summaryRecordFromItem(i) : null;
    },
  };
}

export function maintenanceStore(table: TableClient): MaintenanceStore {
  return {
    async expireItems(nowEpoch) {
      let deleted = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const page = await table.scanPage({ FilterExpression: 'expiresAt <= :now', ExpressionAttributeValues: { ':now': nowEpoch }, ProjectionExpression: 'pk, sk' }, start);
        await table.batchDelete(page.items.map(keyOf));
        deleted += page.items.length;
        start = page.last;
      } while (start);
      return deleted;
    },
  };
}
