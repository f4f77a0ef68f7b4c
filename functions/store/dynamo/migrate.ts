// The one-off copy of a table of the layout before issue 12 (v1) into a table of the current
// layout (docs/deploy.md "Moving to the store layout of issue 12"): computers, software
// releases and partitions are rewritten (tokens kept: agents go on with their token files),
// bangs, quota counters and sessions copied with their new index keys, and the history
// (one item per promise result) regrouped into one item per report. Every migrated partition
// is due for the sweep at once (it records their colours again), and every computer's
// reprocess hint is raised (its next heartbeat reads its partitions' flags). An item already in
// the new table is never overwritten (conditional PutItem): running it again, or after the
// master started on the new table, copies only what is missing (the history is rewritten as
// it was). A Scan of the v1 table, never on a request path.
import { compactFailed } from '../../domain/reports.ts';
import { crimeStateFromV1, crimesOf } from '../../domain/crimes.ts';
import { mapLimit } from '../../lib/concurrency.ts';
import type { LastReportSummary, PromiseReport } from '../../../protocol/index.ts';
import { keepEnd, SUMMARY_ERROR_MAX } from '../../../protocol/limits.ts';
import { indexKeys, keys, legacy } from '../table.ts';
import { C, colourCode, crimeStateToItem, hashBytes, historyToItem, P, summaryToItem } from './items.ts';
import type { Item, TableClient } from './table-client.ts';

export interface MigrationReport {
  computers: number;
  softwareReleases: number;
  partitions: number;
  bangs: number;
  quotaCounters: number;
  sessions: number;
  reports: number;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const msOf = (v: unknown): number | undefined => (typeof v === 'string' && Number.isFinite(Date.parse(v)) ? Date.parse(v) : undefined);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const defined = (o: Item): Item => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));

function withoutV1Index(i: Item): Item {
  const out: Item = { ...i };
  for (const a of [...legacy.indexAttributes, 'type']) delete out[a];
  return out;
}

function v1Summary(v: unknown): LastReportSummary | null {
  if (!isObject(v)) return null;
  const failed = Array.isArray(v.failed) ? v.failed.filter(isObject).map((f) => ({ name: str(f.name), message: str(f.message) })) : [];
  return {
    reportId: str(v.reportId),
    kind: v.kind === 'anomaly' ? 'anomaly' : 'instantiation',
    startedAt: str(v.startedAt),
    durationMs: numOrNull(v.durationMs) ?? 0,
    ok: v.ok === true,
    error: strOrNull(v.error),
    receivedAt: str(v.receivedAt),
    promiseCount: numOrNull(v.promiseCount) ?? 0,
    failed,
    failedCount: failed.length,
  };
}

function computerV2(i: Item): Item {
  return defined({
    ...keys.computer(str(i.computerId)),
    [C.tokenHash]: hashBytes(str(i.tokenHash)),
    [C.lastContact]: msOf(i.lastContactAt),
    [C.agentVersion]: strOrNull(i.agentVersion),
    [C.colour]: colourCode(i.colour === 'green' || i.colour === 'orange' ? i.colour : 'red'),
    [C.colourSince]: msOf(i.colourSince),
    [C.frequency]: numOrNull(i.instantiationFrequencySeconds),
    [C.assignmentVersion]: 1,
    // its next heartbeat reads its partitions' reprocess flags (and clears this when none is pending)
    [C.reprocessHint]: 1,
    [C.createdAt]: msOf(i.createdAt),
    [C.updatedAt]: msOf(i.updatedAt),
  });
}

function partitionV2(i: Item, now: string, otherKindKey: string | null): Item {
  const summary = v1Summary(i.lastReport);
  const compact = summary ? { ...summary, error: summary.error === null ? null : keepEnd(summary.error, SUMMARY_ERROR_MAX), failed: compactFailed(summary.failed) } : null;
  const cs = isObject(i.crimeState)
    ? crimeStateFromV1({
        promises: isObject(i.crimeState.promises) ? (i.crimeState.promises as Record<string, { passed: boolean; failures: number }>) : {},
        lastInstantiationMs: numOrNull(i.crimeState.lastInstantiationMs),
        lastInstantiationEnd: numOrNull(i.crimeState.lastInstantiationEnd),
        busyStreak: numOrNull(i.crimeState.busyStreak) ?? 0,
        allEveryMinute: i.crimeState.allEveryMinute === true,
      })
    : null;
  const tree = str(i.instanceTreeId);
  const partitionId = str(i.partitionId);
  return defined({
    ...keys.partition(str(i.computerId), partitionId),
    ...indexKeys.list(),
    ...indexKeys.tree(tree),
    ...indexKeys.softwareRelease(str(i.softwareReleaseId)),
    // every migrated partition is looked at by the first sweep (which records its colour)
    ...indexKeys.sweep(now),
    ...(i.colour === 'green' ? {} : indexKeys.red(tree, partitionId)),
    ...(cs && crimesOf(cs).length > 0 ? indexKeys.crimes() : {}),
    [P.periodicity]: numOrNull(i.periodicitySeconds),
    [P.quota]: numOrNull(i.bangQuotaPerDay),
    [P.frequency]: numOrNull(i.computerFrequencySeconds),
    [P.lastReportKey]: strOrNull(i.lastReportKey),
    [P.otherKindKey]: otherKindKey,
    [P.lastReport]: compact ? summaryToItem(compact) : undefined,
    [P.crimeState]: cs ? crimeStateToItem(cs) : undefined,
    [P.colour]: colourCode(i.colour === 'green' ? 'green' : 'red'),
    [P.colourSince]: msOf(i.colourSince),
    [P.reprocessAt]: msOf(i.reprocessRequestedAt),
    [P.reprocessReason]: strOrNull(i.reprocessReason),
    [P.reprocessBang]: strOrNull(i.reprocessBangId),
    [P.reprocessedUpTo]: msOf(i.reprocessedUpTo),
    [P.lastBang]: msOf(i.lastBangAt),
    [P.createdAt]: msOf(i.createdAt),
    [P.updatedAt]: msOf(i.updatedAt),
  });
}

/** A v1 partition's history (one item per promise result, one per report) as one item per report. */
async function migrateHistory(from: TableClient, to: TableClient, partitionId: string): Promise<{ reports: number; latestOfKind: Map<string, string> }> {
  const items = await from.queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.historyPk(partitionId) } });
  const byReport = new Map<string, { summary: LastReportSummary; expiresAt: number; results: PromiseReport[] }>();
  for (const i of items.filter((x) => legacy.isHistoryReport(x))) {
    const summary = v1Summary(i);
    if (summary) byReport.set(summary.reportId, { summary, expiresAt: numOrNull(i.expiresAt) ?? 0, results: [] });
  }
  for (const i of items.filter((x) => legacy.isHistoryResult(x))) {
    const r = byReport.get(str(i.reportId));
    if (!r) continue;
    const p = numOrNull(i.periodicityMinutes);
    r.results.push({
      name: str(i.name),
      title: str(i.title),
      kind: i.kind === 'anomaly' ? 'anomaly' : 'test',
      failed: i.failed === true,
      message: str(i.message),
      date: str(i.date),
      executionTimeMs: numOrNull(i.executionTimeMs) ?? 0,
      ...(p === null ? {} : { periodicityMinutes: p }),
    });
  }
  const latestOfKind = new Map<string, string>();
  const out: Item[] = [];
  for (const r of byReport.values()) {
    const key = `${r.summary.startedAt}#${r.summary.reportId}`;
    out.push(historyToItem({ partitionId, summary: r.summary, results: r.results, expiresAt: r.expiresAt }, key));
    if ((latestOfKind.get(r.summary.kind) ?? '') < key) latestOfKind.set(r.summary.kind, key);
  }
  await to.batchPut(out);
  return { reports: out.length, latestOfKind };
}

type Kind = keyof MigrationReport;

/** The v2 item of a v1 item (history aside), and what it is; null: not copied. */
async function convert(from: TableClient, to: TableClient, i: Item, opts: { now: string; history?: boolean }, report: MigrationReport): Promise<{ kind: Kind; item: Item } | null> {
  if (legacy.isComputer(i)) return { kind: 'computers', item: computerV2(i) };
  if (legacy.isPartition(i)) {
    let otherKind: string | null = null;
    if (opts.history !== false) {
      const h = await migrateHistory(from, to, str(i.partitionId));
      report.reports += h.reports;
      const lastKind = isObject(i.lastReport) && i.lastReport.kind === 'anomaly' ? 'anomaly' : 'instantiation';
      otherKind = h.latestOfKind.get(lastKind === 'anomaly' ? 'instantiation' : 'anomaly') ?? null;
    }
    return { kind: 'partitions', item: partitionV2(i, opts.now, otherKind) };
  }
  if (legacy.isSoftwareRelease(i)) {
    const { pk: _pk, sk: _sk, softwareReleaseId, ...rest } = withoutV1Index(i);
    return { kind: 'softwareReleases', item: { ...rest, ...keys.softwareRelease(str(softwareReleaseId)) } };
  }
  if (legacy.isBang(i)) {
    const b = withoutV1Index(i);
    return { kind: 'bangs', item: { ...b, ...indexKeys.bang(str(b.createdAt), str(b.partitionId), str(b.bangId)) } };
  }
  if (legacy.isQuota(i)) return { kind: 'quotaCounters', item: withoutV1Index(i) };
  if (legacy.isSession(i)) return { kind: 'sessions', item: withoutV1Index(i) };
  return null;
}

/** Copies every item of the v1 table `from` missing in the v2 table `to`; counts what it copied. */
export async function migrateFromV1(from: TableClient, to: TableClient, opts: { now: string; history?: boolean; log?: (line: string) => void }): Promise<MigrationReport> {
  const report: MigrationReport = { computers: 0, softwareReleases: 0, partitions: 0, bangs: 0, quotaCounters: 0, sessions: 0, reports: 0 };
  let start: Item | undefined;
  do {
    const page = await from.scanPage({}, start);
    await mapLimit(page.items, to.concurrency, async (i) => {
      const c = await convert(from, to, i, opts, report);
      if (c && (await to.create(c.item))) report[c.kind]++;
    });
    opts.log?.(`vigil migrate: ${report.computers} computers, ${report.partitions} partitions, ${report.reports} reports so far`);
    start = page.last;
  } while (start);
  if (report.partitions > 0) await to.update({ Key: keys.summary, UpdateExpression: 'ADD pt :n', ExpressionAttributeValues: { ':n': report.partitions } });
  return report;
}
