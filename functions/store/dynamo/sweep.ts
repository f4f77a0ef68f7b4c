// The sparse `sweep` index: items whose colour changes by itself, keyed by when it is due;
// and the sweep's conditional colour writes. Plus the local TTL emulation (a Scan).
import { GSI_SWEEP, ITEM_TYPE, keys, SWEEP_PARTITION } from '../table.ts';
import type { MaintenanceStore, SweepItem, SweepStore } from '../types.ts';
import { computerFromItem, partitionFromItem } from './items.ts';
import { keyOf, type TableClient } from './table-client.ts';

/** Items read per sweep page. */
const SWEEP_PAGE = 200;

export function sweepStore(table: TableClient): SweepStore {
  return {
    async pageSweepDue(now, cursor) {
      const page = await table.queryPage(
        {
          IndexName: GSI_SWEEP,
          KeyConditionExpression: 'gsi3pk = :k AND gsi3sk <= :now',
          ExpressionAttributeValues: { ':k': SWEEP_PARTITION, ':now': now },
          Limit: SWEEP_PAGE,
        },
        cursor,
      );
      const items: SweepItem[] = [];
      for (const i of page.items) {
        if (i.type === ITEM_TYPE.computer) items.push({ type: 'computer', record: computerFromItem(i) });
        else if (i.type === ITEM_TYPE.partition) items.push({ type: 'partition', record: partitionFromItem(i) });
      }
      return page.cursor ? { items, cursor: page.cursor } : { items };
    },

    async recordColour(item, c) {
      const key = item.type === 'computer' ? keys.computer(item.record.computerId) : keys.partition(item.record.computerId, item.record.partitionId);
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
      const r = await table.update({ Key: key, UpdateExpression: expr, ConditionExpression: cond, ExpressionAttributeValues: values });
      return r !== false;
    },
  };
}

export function maintenanceStore(table: TableClient): MaintenanceStore {
  return {
    async expireItems(nowEpoch) {
      let deleted = 0;
      let cursor: string | undefined;
      do {
        const page = await table.scanPage(
          { FilterExpression: 'expiresAt <= :now', ExpressionAttributeValues: { ':now': nowEpoch }, ProjectionExpression: 'pk, sk' },
          cursor,
        );
        await table.batchDelete(page.items.map(keyOf));
        deleted += page.items.length;
        cursor = page.cursor;
      } while (cursor);
      return deleted;
    },
  };
}
