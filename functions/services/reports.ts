// A partition's report: kept in the promise history, and as the partition's last report
// (with its colour, crimes and reprocess acknowledgement) unless a newer one is stored.
import type { ReportRequest, ReportResponse } from '../../protocol/index.ts';
import { emptyCrimeState, foldReport } from '../domain/crimes.ts';
import type { PartitionRecord } from '../domain/records.ts';
import { normalizeReport } from '../domain/report-input.ts';
import { DEFAULT_HISTORY_TTL_SECONDS, isNewerReport, isSameReport, reportHistory, reportKey, reportSummary, storableReport } from '../domain/reports.ts';
import { acknowledgedUpTo } from '../domain/reprocess.ts';
import { colourBefore, nextColourFields, partitionVerdict } from '../domain/transitions.ts';
import type { ServiceDeps } from './deps.ts';

/**
 * accepted: now the partition's last report; duplicate: this very report is stored; stale:
 * older than the stored one (history only). `warnings`: what the master changed to record it.
 */
export type ReportOutcome = ReportResponse;

export async function ingestReport(
  deps: Pick<ServiceDeps, 'store' | 'now' | 'historyTtlSeconds'>,
  p: PartitionRecord,
  input: ReportRequest,
): Promise<ReportOutcome> {
  const now = deps.now();
  const nowIso = now.toISOString();
  // Far-future dates clamped, one entry per promise name (domain/report-input.ts).
  const { report: normalized, warnings } = normalizeReport(input, now);
  const r = storableReport(normalized);
  const key = reportKey(r);
  const outcome = (status: ReportOutcome['status']): ReportOutcome => ({ reportId: r.reportId, status, ...(warnings.length ? { warnings } : {}) });
  if (isSameReport(p, key, r.reportId)) return outcome('duplicate');
  const summary = reportSummary(r, nowIso);
  const expiresAt = Math.floor(now.getTime() / 1000) + (deps.historyTtlSeconds ?? DEFAULT_HISTORY_TTL_SECONDS);
  // History first: if anything below fails, the agent's retry (same reportId) completes it.
  const history = reportHistory(p.partitionId, r, summary, expiresAt);
  await deps.store.putHistory(history.report, history.results);
  const upTo = acknowledgedUpTo(r.reprocessedUpTo, p.reprocessedUpTo, nowIso);
  if (isNewerReport(key, p.lastReportKey)) {
    const written = await deps.store.writeReport(p.computerId, p.partitionId, {
      lastReport: summary,
      lastReportKey: key,
      crimeState: foldReport(p.crimeState ?? emptyCrimeState(), r),
      colour: nextColourFields(colourBefore(p, partitionVerdict(p, now)), partitionVerdict({ ...p, lastReport: summary }, now), now),
      reprocessedUpTo: upTo,
      now: nowIso,
    });
    if (written) return outcome('accepted');
  }
  if (upTo) await deps.store.raiseReprocessedUpTo(p.computerId, p.partitionId, upTo);
  return outcome('stale');
}
