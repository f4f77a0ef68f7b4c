// Report rules, pure: the numbers and texts the master keeps of a report, its order key, and
// what the partition keeps as its last report.
import type { LastReportSummary, ReportRequest } from '../../protocol/index.ts';
import { FAILED_SUMMARY_MAX, FAILED_SUMMARY_MESSAGE_MAX, keepEnd, MESSAGE_MAX, REPORT_ERROR_MAX } from '../../protocol/limits.ts';
import type { HistoryRecord, ReportRecord } from './records.ts';

/** How long promise history is kept by default (TTL). */
export const DEFAULT_HISTORY_TTL_SECONDS = 7 * 86_400;

/** A number DynamoDB can store: rounded to the microsecond (no underflow), at least `min`. */
export function storable(x: number, min = 0): number {
  return Math.max(min, Math.round(x * 1000) / 1000);
}

/** A report with its numbers as they can be stored (a denormal like 1e-200 would underflow). */
export function storableReport(input: ReportRequest): ReportRequest {
  return {
    ...input,
    durationMs: storable(input.durationMs),
    promises: input.promises.map((x) => ({
      ...x,
      executionTimeMs: storable(x.executionTimeMs),
      ...(x.periodicityMinutes === undefined ? {} : { periodicityMinutes: storable(x.periodicityMinutes, 0.001) }),
    })),
  };
}

/** `<startedAt ISO>#<reportId>`: orders reports; a smaller (or equal) key never overwrites. */
export function reportKey(r: Pick<ReportRequest, 'startedAt' | 'reportId'>): string {
  return `${new Date(r.startedAt).toISOString()}#${r.reportId}`;
}

/** The stored last report is this one: by key, or by id (a clamped startedAt differs when the same report is posted again). */
export function isSameReport(stored: { lastReportKey: string | null; lastReport: { reportId: string } | null }, key: string, reportId: string): boolean {
  return stored.lastReportKey === key || stored.lastReport?.reportId === reportId;
}

export function isNewerReport(key: string, storedKey: string | null): boolean {
  return !storedKey || key > storedKey;
}

/** What the partition keeps of a report (its colour and the dashboard read it). */
export function reportSummary(r: ReportRequest, receivedAt: string): LastReportSummary {
  const failed = r.promises.filter((x) => x.failed).map((x) => ({ name: x.name, message: keepEnd(x.message, FAILED_SUMMARY_MESSAGE_MAX) }));
  return {
    reportId: r.reportId,
    kind: r.kind,
    startedAt: new Date(r.startedAt).toISOString(),
    durationMs: r.durationMs,
    ok: r.ok && failed.length === 0,
    error: r.error === undefined ? null : keepEnd(r.error, REPORT_ERROR_MAX),
    receivedAt,
    promiseCount: r.promises.length,
    failed: failed.slice(0, FAILED_SUMMARY_MAX),
  };
}

/** The history a report leaves: its summary and one item per promise result, all expiring at `expiresAt`. */
export function reportHistory(
  partitionId: string,
  r: ReportRequest,
  summary: LastReportSummary,
  expiresAt: number,
): { report: ReportRecord; results: HistoryRecord[] } {
  return {
    report: { ...summary, partitionId, expiresAt },
    results: r.promises.map((x) => ({
      partitionId,
      name: x.name,
      title: x.title,
      kind: x.kind,
      failed: x.failed,
      message: keepEnd(x.message, MESSAGE_MAX),
      date: new Date(x.date).toISOString(),
      executionTimeMs: x.executionTimeMs,
      ...(x.periodicityMinutes === undefined ? {} : { periodicityMinutes: x.periodicityMinutes }),
      reportId: r.reportId,
      receivedAt: summary.receivedAt,
      expiresAt,
    })),
  };
}
