// Reports: the partition's last report (one conditional write, optimistic on the report key it
// read) and the history (pk H#<partition>, one item per report with every promise result,
// sorted by report key, expiring).
import { INDEX_ATTR as A, INDEX_PK, keys } from '../table.ts';
import type { ReportStore } from '../types.ts';
import { colourCode, crimeStateToItem, historyFromItem, historyToItem, ms, P, summaryToItem } from './items.ts';
import { notifyStateUpdate, redIndexUpdate } from './partitions.ts';
import { mapItems, type TableClient } from './table-client.ts';

export function reportStore(table: TableClient): ReportStore {
  return {
    async writeReport(p, w, expectedKey) {
      const names: Record<string, string> = {
        '#lr': P.lastReport,
        '#lk': P.lastReportKey,
        '#cst': P.crimeState,
        '#c': P.colour,
        '#cs': P.colourSince,
        '#ua': P.updatedAt,
        '#cx': A.crimes,
      };
      const values: Record<string, unknown> = {
        ':lr': summaryToItem(w.lastReport),
        ':k': w.lastReportKey,
        ':cst': crimeStateToItem(w.crimeState),
        ':c': colourCode(w.colour.colour),
        ':cs': w.colour.colourSince === null ? null : ms(w.colour.colourSince),
        ':ua': ms(w.now),
      };
      const sets = ['#lr = :lr', '#lk = :k', '#cst = :cst', '#c = :c', '#cs = :cs', '#ua = :ua'];
      const removes: string[] = [];
      names['#ko'] = P.otherKindKey;
      if (w.otherKindReportKey) {
        sets.push('#ko = :ko');
        values[':ko'] = w.otherKindReportKey;
      } else removes.push('#ko');
      if (w.sweepAt !== undefined) {
        names['#sw'] = A.sweep;
        names['#sd'] = A.sweepDue;
        values[':sw'] = INDEX_PK.sweep;
        values[':sd'] = w.sweepAt;
        sets.push('#sw = :sw', '#sd = :sd');
      }
      const red = redIndexUpdate(p, w.colour.colour === 'red', names, values);
      sets.push(...red.set);
      removes.push(...red.remove);
      if (w.hasCrimes) {
        sets.push('#cx = :cx');
        values[':cx'] = INDEX_PK.crimes;
      } else removes.push('#cx');
      let cond = expectedKey === null ? 'attribute_not_exists(#lk)' : '#lk = :expected';
      if (expectedKey !== null) values[':expected'] = expectedKey;
      if (w.notify) {
        const n = notifyStateUpdate(p, w.notify, names, values);
        sets.push(...n.set);
        cond += ` AND ${n.cond.join(' AND ')}`;
      }
      if (w.reprocessedUpTo) {
        names['#ru'] = P.reprocessedUpTo;
        values[':ru'] = ms(w.reprocessedUpTo);
        sets.push('#ru = :ru');
        // the reason of a handled flag is not kept (the partition item stays small); the
        // flag it handled must still be the one read
        if (p.reprocessRequestedAt && w.reprocessedUpTo >= p.reprocessRequestedAt) {
          names['#rq'] = P.reprocessAt;
          names['#rr'] = P.reprocessReason;
          names['#rb'] = P.reprocessBang;
          values[':rq'] = ms(p.reprocessRequestedAt);
          removes.push('#rr', '#rb');
          cond += ' AND #rq = :rq';
        }
      }
      const r = await table.update({
        Key: keys.partition(p.computerId, p.partitionId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: `attribute_exists(pk) AND ${cond}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
      return r !== false;
    },

    async recordStaleReport(p, s) {
      const Key = keys.partition(p.computerId, p.partitionId);
      if (s.reprocessedUpTo) {
        await table.update({
          Key,
          UpdateExpression: 'SET #ru = :u',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#ru) OR #ru < :u)',
          ExpressionAttributeNames: { '#ru': P.reprocessedUpTo },
          ExpressionAttributeValues: { ':u': ms(s.reprocessedUpTo) },
        });
      }
      // the latest report of the other kind than the last report's: its results are shown
      if (p.lastReport && p.lastReportKey && s.kind !== p.lastReport.kind && (!p.otherKindReportKey || s.reportKey > p.otherKindReportKey)) {
        await table.update({
          Key,
          UpdateExpression: 'SET #ko = :k',
          ConditionExpression: '#lk = :lk AND (attribute_not_exists(#ko) OR #ko < :k)',
          ExpressionAttributeNames: { '#ko': P.otherKindKey, '#lk': P.lastReportKey },
          ExpressionAttributeValues: { ':k': s.reportKey, ':lk': p.lastReportKey },
        });
      }
    },

    putHistory: (h, reportKey) => table.put(historyToItem(h, reportKey)),

    listHistory: (partitionId, page) =>
      table.listPage({
        scope: `history?${partitionId}`,
        query: { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.historyPk(partitionId) }, ScanIndexForward: false },
        bounds: { fixed: { pk: keys.historyPk(partitionId) } },
        load: mapItems((i) => historyFromItem(partitionId, i)),
        ...page,
      }),

    async getHistory(partitionId, reportKeys) {
      const found = await table.batchGet(
        [...new Set(reportKeys)].map((k) => keys.history(partitionId, k)),
        false,
      );
      return found.map((i) => historyFromItem(partitionId, i));
    },
  };
}
