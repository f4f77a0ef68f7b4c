// A partition's report: kept in the history (one item with every promise result), and as the
// partition's last report (with its colour, crimes and reprocess acknowledgement) unless a
// newer one is stored. The partition was read eventually consistently: the write expects the
// report key it read, and on a lost race the partition is read again (strongly) and the
// report folded into what is really stored. Every report is an observation of the
// partition's colour for notifications (flap window, events of a change: derive.ts through
// services/notify-changes.ts), recorded by the same partition write.
import type { ReportRequest, ReportResponse } from '../../protocol/index.ts';
import { crimesOf, emptyCrimeState, foldReport } from '../domain/crimes.ts';
import type { PartitionRecord } from '../domain/records.ts';
import { normalizeReport } from '../domain/report-input.ts';
import { DEFAULT_HISTORY_TTL_SECONDS, isNewerReport, isSameReport, reportHistory, reportKey, reportSummary, storableReport } from '../domain/reports.ts';
import { nextFlapSampleAt } from '../domain/flapping.ts';
import { acknowledgedUpTo, bangInProgress } from '../domain/reprocess.ts';
import { colourBefore, computerVerdict, lazySweepKey, nextColourFields, partitionVerdict } from '../domain/transitions.ts';
import type { ReportWrite } from '../store/types.ts';
import type { ServiceDeps } from './deps.ts';
import { type NotifySession, notifySession, observePartitionChange, recordWithEvents } from './notify-changes.ts';

/**
 * accepted: now the partition's last report; duplicate: this very report is stored; stale:
 * older than the stored one (history only). `warnings`: what the master changed to record it.
 */
export type ReportOutcome = ReportResponse;

/** Writes attempted before giving up on a partition that keeps changing under the report (500: the agent retries). */
const WRITE_ATTEMPTS = 4;

function reportWrite(p: PartitionRecord, r: ReportRequest, key: string, now: Date): { write: ReportWrite; nextChangeAt: Date | null } {
  const nowIso = now.toISOString();
  const summary = reportSummary(r, nowIso);
  const crimeState = foldReport(p.crimeState ?? emptyCrimeState(), r);
  const after = partitionVerdict({ ...p, lastReport: summary }, now);
  const { sweepAt: _ignored, ...colour } = nextColourFields(colourBefore(p, partitionVerdict(p, now)), after, now);
  const write = {
    lastReport: summary,
    lastReportKey: key,
    // the latest report of the other kind: its promise results are shown with this one's
    otherKindReportKey: p.lastReport && p.lastReport.kind !== r.kind ? p.lastReportKey : p.otherKindReportKey,
    crimeState,
    hasCrimes: crimesOf(crimeState).length > 0,
    colour,
    sweepAt: lazySweepKey(p.sweepAt, after.nextChangeAt),
    reprocessedUpTo: acknowledgedUpTo(r.reprocessedUpTo, p.reprocessedUpTo, nowIso),
    now: nowIso,
  };
  return { write, nextChangeAt: after.nextChangeAt };
}

type ReportDeps = Pick<ServiceDeps, 'store' | 'now' | 'historyTtlSeconds' | 'notify' | 'logError'>;

/**
 * The report's partition write with its observation: the events of the change it records
 * (if any) recorded with it; a flapping partition keeps a sweep key for its samples.
 */
async function writeObserved(deps: ReportDeps, session: NotifySession, p: PartitionRecord, r: ReportRequest, key: string, now: Date): Promise<boolean> {
  const { write, nextChangeAt } = reportWrite(p, r, key, now);
  const before = colourBefore(p, partitionVerdict(p, now)).colour;
  const afterRecord = { ...p, lastReport: write.lastReport, reprocessedUpTo: write.reprocessedUpTo ?? p.reprocessedUpTo };
  const change = {
    before,
    after: { colour: write.colour.colour, reason: write.colour.colourReason, since: write.colour.colourSince ?? write.now },
    bangInProgress: bangInProgress(afterRecord),
  };
  const computerColour = async () => {
    const c = await deps.store.getComputer(p.computerId, false);
    return c ? computerVerdict(c, now).colour : 'red';
  };
  const { state, events } = await observePartitionChange(session, p, change, now, computerColour);
  const sample = nextFlapSampleAt(state.flapping, now, now);
  const sweepAt = sample ? lazySweepKey(p.sweepAt, nextChangeAt && nextChangeAt < sample ? nextChangeAt : sample) : write.sweepAt;
  return recordWithEvents(deps, session, events, { computerId: p.computerId, partitionId: p.partitionId }, p.notifyPending, (pending) =>
    deps.store.writeReport(p, { ...write, sweepAt, notify: { state, pending } }, p.lastReportKey),
  );
}

export async function ingestReport(
  deps: ReportDeps,
  read: PartitionRecord,
  input: ReportRequest,
): Promise<ReportOutcome> {
  const now = deps.now();
  const nowIso = now.toISOString();
  // Far-future dates clamped, one entry per promise name (domain/report-input.ts).
  const { report: normalized, warnings } = normalizeReport(input, now);
  const r = storableReport(normalized);
  const key = reportKey(r);
  const outcome = (status: ReportOutcome['status']): ReportOutcome => ({ reportId: r.reportId, status, ...(warnings.length ? { warnings } : {}) });
  if (isSameReport(read, key, r.reportId)) return outcome('duplicate');
  const expiresAt = Math.floor(now.getTime() / 1000) + (deps.historyTtlSeconds ?? DEFAULT_HISTORY_TTL_SECONDS);
  // History first: if anything below fails, the agent's retry (same reportId) completes it.
  await deps.store.putHistory(reportHistory(read.partitionId, r, nowIso, expiresAt), key);
  let p = read;
  const d = { ...deps, now: () => now };
  const session = notifySession(d);
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    if (!isNewerReport(key, p.lastReportKey)) {
      await deps.store.recordStaleReport(p, { reprocessedUpTo: acknowledgedUpTo(r.reprocessedUpTo, p.reprocessedUpTo, nowIso), kind: r.kind, reportKey: key });
      return outcome('stale');
    }
    if (await writeObserved(d, session, p, r, key, now)) return outcome('accepted');
    const again = await deps.store.getComputerPartition(p.computerId, p.partitionId, true);
    if (!again) throw new Error(`partition ${p.partitionId} vanished during its report`);
    if (isSameReport(again, key, r.reportId)) return outcome('duplicate');
    p = again;
  }
  throw new Error(`partition ${p.partitionId}: the report lost ${WRITE_ATTEMPTS} races in a row`);
}
