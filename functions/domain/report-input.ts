// What the master changes in a report before recording it (pure; SPEC §3 reports).
//  - Dates more than MAX_CLOCK_SKEW_SECONDS ahead of the master's clock (`startedAt`, each
//    promise `date`) are clamped to the master's now: reports are ordered by `startedAt`
//    and history by `date`, so one far-future date from a wrong agent clock would
//    otherwise make every later report "stale" and hide real failures. Never refused: an
//    agent drops a report answered 4xx, and the report would be lost. Past dates are kept.
//  - Several entries with the same promise name: only the last one is kept (history is
//    keyed by name and date; two entries would make one write fail).
// Each change is reported back to the agent as a warning naming the field.
import { MAX_CLOCK_SKEW_SECONDS, type ReportRequest, type ReportWarning } from '../../protocol/index.ts';

export const MAX_CLOCK_SKEW_MS = MAX_CLOCK_SKEW_SECONDS * 1000;

export function normalizeReport(input: ReportRequest, now: Date): { report: ReportRequest; warnings: ReportWarning[] } {
  const warnings: ReportWarning[] = [];
  const nowIso = now.toISOString();
  const latest = now.getTime() + MAX_CLOCK_SKEW_MS;
  const date = (value: string, field: string): string => {
    const t = Date.parse(value);
    if (t <= latest) return new Date(t).toISOString();
    warnings.push({
      field,
      code: 'clamped_future_date',
      message: `${field} ${value} is more than ${MAX_CLOCK_SKEW_SECONDS} s ahead of the master's clock: recorded as ${nowIso} (check the agent's clock)`,
    });
    return nowIso;
  };
  const startedAt = date(input.startedAt, 'body.startedAt');
  const lastOf = new Map<string, number>();
  for (const [i, p] of input.promises.entries()) lastOf.set(p.name, i);
  const promises: ReportRequest['promises'] = [];
  input.promises.forEach((p, i) => {
    const last = lastOf.get(p.name) ?? i;
    if (last !== i) {
      warnings.push({
        field: `body.promises.${i}.name`,
        code: 'duplicate_promise_name',
        message: `promise ${JSON.stringify(p.name)} appears again at body.promises.${last}: only that last entry is kept`,
      });
      return;
    }
    promises.push({ ...p, date: date(p.date, `body.promises.${i}.date`) });
  });
  return { report: { ...input, startedAt, promises }, warnings };
}
