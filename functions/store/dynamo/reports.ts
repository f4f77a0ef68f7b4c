// Reports: the partition's last report (one conditional write, ordered by report key) and the
// promise history (pk H#<partition>, expiring items).
import { ITEM_TYPE, keys, SWEEP_PARTITION } from '../table.ts';
import type { ReportStore } from '../types.ts';
import { historyFromItem, reportFromItem } from './items.ts';
import type { TableClient } from './table-client.ts';

/** History items read per partition at most. */
const HISTORY_READ_MAX = 20_000;

export function reportStore(table: TableClient): ReportStore {
  return {
    async writeReport(computerId, partitionId, w) {
      const sets = ['lastReport = :lr', 'lastReportKey = :k', 'crimeState = :cs', 'colour = :c', 'colourReason = :r', 'colourSince = :s', 'updatedAt = :now'];
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
      const r = await table.update({
        Key: keys.partition(computerId, partitionId),
        UpdateExpression: `SET ${sets.join(', ')}${remove}`,
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastReportKey) OR lastReportKey < :k)',
        ExpressionAttributeValues: values,
      });
      return r !== false;
    },

    async raiseReprocessedUpTo(computerId, partitionId, upTo) {
      await table.update({
        Key: keys.partition(computerId, partitionId),
        UpdateExpression: 'SET reprocessedUpTo = :u',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(reprocessedUpTo) OR reprocessedUpTo < :u)',
        ExpressionAttributeValues: { ':u': upTo },
      });
    },

    putHistory: (report, items) =>
      table.batchPut([
        { ...keys.historyReport(report.partitionId, report.startedAt, report.reportId), type: ITEM_TYPE.report, ...report },
        ...items.map((h) => ({ ...keys.historyResult(h.partitionId, h.name, h.date, h.reportId), type: ITEM_TYPE.history, ...h })),
      ]),

    async listHistory(partitionId, nowEpoch) {
      const items = await table.queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.historyPk(partitionId) } }, HISTORY_READ_MAX);
      const live = items.filter((i) => typeof i.expiresAt !== 'number' || i.expiresAt > nowEpoch);
      return {
        results: live.filter((i) => i.type === ITEM_TYPE.history).map(historyFromItem),
        reports: live.filter((i) => i.type === ITEM_TYPE.report).map(reportFromItem),
      };
    },
  };
}
