// Report rules, pure: the numbers and texts the master keeps of a report, its order key, and
// what the partition keeps as its last report.
import type { LastReportSummary, PromiseReport, ReportRequest } from '../../protocol/index.ts';
import { FAILED_SUMMARY_BYTES, FAILED_SUMMARY_MAX, FAILED_SUMMARY_MESSAGE_MAX, keepEnd, MESSAGE_MAX, REPORT_ERROR_MAX, SUMMARY_ERROR_MAX } from '../../protocol/limits.ts';
import type { ReportHistoryRecord } from './records.ts';

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

/** `<startedAt ISO>#<reportId>`: orders reports; a smaller (or equal) key never overwrites. Also the report's key in the history. */
export function reportKey(r: Pick<ReportRequest, 'startedAt' | 'reportId'>): string {
  return `${new Date(r.startedAt).toISOString()}#${r.reportId}`;
}

/** The startedAt and reportId of a report key. */
export function parseReportKey(key: string): { startedAt: string; reportId: string } {
  const i = key.indexOf('#');
  return i < 0 ? { startedAt: key, reportId: '' } : { startedAt: key.slice(0, i), reportId: key.slice(i + 1) };
}

/** The stored last report is this one: by key, or by id (a clamped startedAt differs when the same report is posted again). */
export function isSameReport(stored: { lastReportKey: string | null; lastReport: { reportId: string } | null }, key: string, reportId: string): boolean {
  return stored.lastReportKey === key || stored.lastReport?.reportId === reportId;
}

export function isNewerReport(key: string, storedKey: string | null): boolean {
  return !storedKey || key > storedKey;
}

const utf8Bytes = (s: string): number => new TextEncoder().encode(s).length;

/**
 * The failed promises a summary lists, within FAILED_SUMMARY_BYTES: the first with the end
 * of its message (at most FAILED_SUMMARY_MESSAGE_MAX characters), then the next names
 * (message empty) while they fit, FAILED_SUMMARY_MAX at most. The first is always there.
 */
export function compactFailed(failed: readonly { name: string; message: string }[]): { name: string; message: string }[] {
  const [first, ...rest] = failed;
  if (!first) return [];
  const room = Math.max(0, FAILED_SUMMARY_BYTES - utf8Bytes(first.name));
  let message = keepEnd(first.message, Math.min(FAILED_SUMMARY_MESSAGE_MAX, room));
  while (utf8Bytes(message) > room && message.length > 0) message = message.slice(Math.max(1, Math.floor(message.length / 8)));
  const out = [{ name: first.name, message }];
  let used = utf8Bytes(first.name) + utf8Bytes(message);
  for (const f of rest) {
    if (out.length >= FAILED_SUMMARY_MAX || used + utf8Bytes(f.name) > FAILED_SUMMARY_BYTES) break;
    out.push({ name: f.name, message: '' });
    used += utf8Bytes(f.name);
  }
  return out;
}

/**
 * What is kept of a report as a summary: in the history (`errorMax` REPORT_ERROR_MAX) and
 * as the partition's last report (SUMMARY_ERROR_MAX: the partition item stays small).
 */
export function reportSummary(r: ReportRequest, receivedAt: string, errorMax = SUMMARY_ERROR_MAX): LastReportSummary {
  const failed = r.promises.filter((x) => x.failed);
  return {
    reportId: r.reportId,
    kind: r.kind,
    startedAt: new Date(r.startedAt).toISOString(),
    durationMs: r.durationMs,
    ok: r.ok && failed.length === 0,
    error: r.error === undefined ? null : keepEnd(r.error, errorMax),
    receivedAt,
    promiseCount: r.promises.length,
    failed: compactFailed(failed),
    failedCount: failed.length,
  };
}

/** The history a report leaves: one record with its summary and every promise result, expiring at `expiresAt`. */
export function reportHistory(partitionId: string, r: ReportRequest, receivedAt: string, expiresAt: number): ReportHistoryRecord {
  return {
    partitionId,
    summary: reportSummary(r, receivedAt, REPORT_ERROR_MAX),
    results: r.promises.map(
      (x): PromiseReport => ({
        name: x.name,
        title: x.title,
        kind: x.kind,
        failed: x.failed,
        message: keepEnd(x.message, MESSAGE_MAX),
        date: new Date(x.date).toISOString(),
        executionTimeMs: x.executionTimeMs,
        ...(x.periodicityMinutes === undefined ? {} : { periodicityMinutes: x.periodicityMinutes }),
      }),
    ),
    expiresAt,
  };
}
