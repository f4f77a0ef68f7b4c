// Typed item mappers: each item type of the table parsed into its domain record, attribute by
// attribute (defaults for attributes an item may lack), and the attribute names of the items
// that are read in bulk (computers, partitions, history: compact names, times as epoch ms, so
// that the sweep's read of every computer and a report's write stay small; docs/decisions.md
// "Fleet scale: store layout"). Nothing else reads item values.
import type { BangSource, Colour, LastReportSummary, PromiseKind, PromiseReport, ReportKind } from '../../../protocol/index.ts';
import { DEFAULT_INSTANTIATION_FREQUENCY_SECONDS } from '../../domain/colours.ts';
import { type CrimeState, emptyCrimeState, PASSED_FILTER_BYTES } from '../../domain/crimes.ts';
import { DEFAULT_BANG_QUOTA_PER_DAY } from '../../domain/quota.ts';
import { parseReportKey } from '../../domain/reports.ts';
import { type BangRecord, type ComputerRecord, initialPartitionNotifyState, type PartitionNotifyState, type PartitionRecord, type ReportHistoryRecord, type SoftwareReleaseRecord } from '../../domain/records.ts';
import { INDEX_ATTR, keys } from '../table.ts';
import type { FleetSummaryRecord, SessionRecord } from '../types.ts';
import type { Item } from './table-client.ts';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const textOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const num = (v: unknown): number => numOrNull(v) ?? 0;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
function oneOf<T extends string>(v: unknown, values: readonly T[], fallback: T): T {
  return values.includes(v as T) ? (v as T) : fallback;
}

/** Epoch ms as stored ↔ ISO as in records. */
export const ms = (iso: string): number => Date.parse(iso);
const isoOrNull = (v: unknown): string | null => (typeof v === 'number' && Number.isFinite(v) ? new Date(v).toISOString() : typeof v === 'string' ? v : null);
const iso = (v: unknown): string => isoOrNull(v) ?? new Date(0).toISOString();

// ------------------------------------------------------------------ colour codes
const COLOUR_CODE: Record<Colour, string> = { green: 'g', orange: 'o', red: 'r' };
export const colourCode = (c: Colour): string => COLOUR_CODE[c];
function colourOf(v: unknown): Colour {
  if (v === 'g' || v === 'green') return 'green';
  if (v === 'o' || v === 'orange') return 'orange';
  return 'red';
}

// ------------------------------------------------------------------ computers
/** Attributes of a computer item (pk COMPUTERS, sk = its id). */
export const C = {
  tokenHash: 'th',
  lastContact: 'lc',
  agentVersion: 'av',
  colour: 'c',
  colourSince: 'cs',
  frequency: 'fq',
  assignmentVersion: 'ver',
  reprocessHint: 'rh',
  notifyPending: 'np',
  createdAt: 'ca',
  updatedAt: 'ua',
} as const;

// ------------------------------------------------------------------ notification state
/** Event ids pending routing, as stored: one string, space-separated (ids hold no space). */
export const pendingToItem = (ids: readonly string[]): string => ids.join(' ');
export const pendingFromItem = (v: unknown): string[] => (typeof v === 'string' && v ? v.split(' ') : []);

/**
 * A partition's notification state in one short string (`nf`): a flag (`f` flapping, `-`
 * not), the colour receivers were last told (`g`/`o`/`r`, `-` never told), then the flap
 * history (up to 21 of `g`/`o`/`r`). At most 23 bytes; the time of the last sample is `ns`.
 */
export function notifyStateToItem(s: PartitionNotifyState): string {
  return `${s.flapping ? 'f' : '-'}${s.announced ? colourCode(s.announced) : '-'}${s.flapHistory}`;
}

function notifyStateFromItem(nf: unknown, ns: unknown): PartitionNotifyState {
  if (typeof nf !== 'string' || nf.length < 2) return { ...initialPartitionNotifyState(), sampledAt: isoOrNull(ns) };
  return {
    flapping: nf[0] === 'f',
    announced: nf[1] === '-' ? null : colourOf(nf[1]),
    flapHistory: nf.slice(2).replace(/[^gor]/g, ''),
    sampledAt: isoOrNull(ns),
  };
}

/** A SHA-256 hex digest stored as 32 bytes. */
export const hashBytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));
const hashHex = (v: unknown): string => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'string' ? v : '');

export function computerFromItem(i: Item): ComputerRecord {
  return {
    computerId: text(i.sk),
    tokenHash: hashHex(i[C.tokenHash]),
    instantiationFrequencySeconds: numOrNull(i[C.frequency]) ?? DEFAULT_INSTANTIATION_FREQUENCY_SECONDS,
    lastContactAt: isoOrNull(i[C.lastContact]),
    agentVersion: textOrNull(i[C.agentVersion]),
    assignmentVersion: num(i[C.assignmentVersion]),
    reprocessHint: num(i[C.reprocessHint]),
    notifyPending: pendingFromItem(i[C.notifyPending]),
    colour: colourOf(i[C.colour]),
    // not stored: the reason served is the verdict at the request's time
    colourReason: '',
    colourSince: isoOrNull(i[C.colourSince]),
    sweepAt: null,
    createdAt: iso(i[C.createdAt]),
    updatedAt: iso(i[C.updatedAt]),
  };
}

export function computerItem(c: { computerId: string; tokenHash: string; instantiationFrequencySeconds: number; colour: Colour }, now: string): Item {
  return {
    ...keys.computer(c.computerId),
    [C.tokenHash]: hashBytes(c.tokenHash),
    [C.frequency]: c.instantiationFrequencySeconds,
    [C.colour]: colourCode(c.colour),
    [C.colourSince]: ms(now),
    [C.assignmentVersion]: 0,
    [C.createdAt]: ms(now),
    [C.updatedAt]: ms(now),
  };
}

// ------------------------------------------------------------------ software releases
export function softwareReleaseFromItem(i: Item): SoftwareReleaseRecord {
  return {
    softwareReleaseId: text(i.sk),
    url: text(i.url),
    periodicitySeconds: numOrNull(i.periodicitySeconds),
    bangQuotaPerDay: numOrNull(i.bangQuotaPerDay) ?? DEFAULT_BANG_QUOTA_PER_DAY,
    createdAt: text(i.createdAt),
    updatedAt: text(i.updatedAt),
  };
}

// ------------------------------------------------------------------ report summaries
const REPORT_KINDS: readonly ReportKind[] = ['instantiation', 'anomaly'];
const reportKindCode = (k: ReportKind): string => (k === 'anomaly' ? 'a' : 'i');
const reportKindOf = (v: unknown): ReportKind => (v === 'a' || v === 'anomaly' ? 'anomaly' : oneOf(v, REPORT_KINDS, 'instantiation'));

/** A report summary as stored (its id and start are in its report key). */
export function summaryToItem(s: LastReportSummary): Item {
  return {
    k: reportKindCode(s.kind),
    d: s.durationMs,
    o: s.ok,
    ...(s.error === null ? {} : { e: s.error }),
    r: ms(s.receivedAt),
    n: s.promiseCount,
    f: s.failed.map((x) => (x.message ? { n: x.name, m: x.message } : { n: x.name })),
    fc: s.failedCount ?? s.failed.length,
  };
}

export function summaryFromItem(v: unknown, reportKey: string): LastReportSummary | null {
  return isObject(v) ? summaryFromMap(v, reportKey) : null;
}

function summaryFromMap(v: Record<string, unknown>, reportKey: string): LastReportSummary {
  const { startedAt, reportId } = parseReportKey(reportKey);
  const failed = Array.isArray(v.f) ? v.f.filter(isObject).map((x) => ({ name: text(x.n), message: text(x.m) })) : [];
  return {
    reportId,
    kind: reportKindOf(v.k),
    startedAt,
    durationMs: num(v.d),
    ok: v.o === true,
    error: textOrNull(v.e),
    receivedAt: iso(v.r),
    promiseCount: num(v.n),
    failed,
    failedCount: numOrNull(v.fc) ?? failed.length,
  };
}

// ------------------------------------------------------------------ crime state
export function crimeStateToItem(s: CrimeState): Item {
  return {
    np: s.neverPassed,
    pb: s.passed,
    ...(s.lastInstantiationMs === null ? {} : { li: s.lastInstantiationMs }),
    ...(s.lastInstantiationEnd === null ? {} : { le: s.lastInstantiationEnd }),
    ...(s.busyStreak ? { bs: s.busyStreak } : {}),
    ...(s.allEveryMinute ? { em: true } : {}),
  };
}

function crimeStateFromItem(v: unknown): CrimeState | null {
  if (!isObject(v)) return null;
  const neverPassed: Record<string, number> = {};
  if (isObject(v.np)) for (const [k, n] of Object.entries(v.np)) if (typeof n === 'number') neverPassed[k] = n;
  const passed = v.pb instanceof Uint8Array && v.pb.length === PASSED_FILTER_BYTES ? v.pb : emptyCrimeState().passed;
  return { neverPassed, passed, lastInstantiationMs: numOrNull(v.li), lastInstantiationEnd: numOrNull(v.le), busyStreak: num(v.bs), allEveryMinute: v.em === true };
}

// ------------------------------------------------------------------ partitions
/** Attributes of a partition item (pk C#<computer>, sk P#<partition>); index keys in INDEX_ATTR. */
export const P = {
  periodicity: 'pd',
  quota: 'q',
  frequency: 'fq',
  lastReportKey: 'lk',
  otherKindKey: 'ko',
  lastReport: 'lr',
  crimeState: 'cst',
  colour: 'c',
  colourSince: 'cs',
  reprocessAt: 'rq',
  reprocessReason: 'rr',
  reprocessBang: 'rb',
  reprocessedUpTo: 'ru',
  lastBang: 'lb',
  notify: 'nf',
  notifySampledAt: 'ns',
  notifyPending: 'np',
  createdAt: 'ca',
  updatedAt: 'ua',
} as const;

export function partitionFromItem(i: Item): PartitionRecord {
  const ref = keys.partitionRef(i.pk, i.sk) ?? { computerId: '', partitionId: '' };
  const lastReportKey = textOrNull(i[P.lastReportKey]);
  return {
    partitionId: ref.partitionId,
    computerId: ref.computerId,
    instanceTreeId: text(i[INDEX_ATTR.tree]),
    softwareReleaseId: text(i[INDEX_ATTR.softwareRelease]),
    periodicitySeconds: numOrNull(i[P.periodicity]),
    bangQuotaPerDay: numOrNull(i[P.quota]) ?? DEFAULT_BANG_QUOTA_PER_DAY,
    computerFrequencySeconds: numOrNull(i[P.frequency]) ?? DEFAULT_INSTANTIATION_FREQUENCY_SECONDS,
    lastReport: lastReportKey ? summaryFromItem(i[P.lastReport], lastReportKey) : null,
    lastReportKey,
    otherKindReportKey: textOrNull(i[P.otherKindKey]),
    reprocessRequestedAt: isoOrNull(i[P.reprocessAt]),
    reprocessReason: textOrNull(i[P.reprocessReason]),
    reprocessBangId: textOrNull(i[P.reprocessBang]),
    reprocessedUpTo: isoOrNull(i[P.reprocessedUpTo]),
    lastBangAt: isoOrNull(i[P.lastBang]),
    crimeState: crimeStateFromItem(i[P.crimeState]),
    notify: notifyStateFromItem(i[P.notify], i[P.notifySampledAt]),
    notifyPending: pendingFromItem(i[P.notifyPending]),
    colour: colourOf(i[P.colour]),
    colourReason: '',
    colourSince: isoOrNull(i[P.colourSince]),
    sweepAt: textOrNull(i[INDEX_ATTR.sweepDue]),
    createdAt: iso(i[P.createdAt]),
    updatedAt: iso(i[P.updatedAt]),
  };
}

// ------------------------------------------------------------------ history
const PROMISE_KINDS: readonly PromiseKind[] = ['test', 'anomaly'];
const titleOf = (name: string): string => name.replace(/\.[^.]*$/, '');

function resultToItem(r: PromiseReport): Item {
  return {
    n: r.name,
    ...(r.title === titleOf(r.name) ? {} : { t: r.title }),
    ...(r.kind === 'anomaly' ? { k: 'a' } : {}),
    ...(r.failed ? { f: true } : {}),
    m: r.message,
    d: ms(r.date),
    x: r.executionTimeMs,
    ...(r.periodicityMinutes === undefined ? {} : { p: r.periodicityMinutes }),
  };
}

function resultFromItem(v: Record<string, unknown>): PromiseReport {
  const name = text(v.n);
  const p = numOrNull(v.p);
  return {
    name,
    title: typeof v.t === 'string' ? v.t : titleOf(name),
    kind: v.k === 'a' ? 'anomaly' : oneOf(v.k, PROMISE_KINDS, 'test'),
    failed: v.f === true,
    message: text(v.m),
    date: iso(v.d),
    executionTimeMs: num(v.x),
    ...(p === null ? {} : { periodicityMinutes: p }),
  };
}

export function historyToItem(h: ReportHistoryRecord, reportKey: string): Item {
  return { ...keys.history(h.partitionId, reportKey), s: summaryToItem(h.summary), rs: h.results.map(resultToItem), expiresAt: h.expiresAt };
}

export function historyFromItem(partitionId: string, i: Item): ReportHistoryRecord {
  return {
    partitionId,
    summary: summaryFromMap(isObject(i.s) ? i.s : {}, text(i.sk)),
    results: Array.isArray(i.rs) ? i.rs.filter(isObject).map(resultFromItem) : [],
    expiresAt: num(i.expiresAt),
  };
}

// ------------------------------------------------------------------ bangs, sessions, summary
const BANG_SOURCES: readonly BangSource[] = ['promise', 'watchdog', 'manual'];

export function bangFromItem(i: Item): BangRecord {
  return {
    bangId: text(i.bangId),
    partitionId: text(i.partitionId),
    computerId: text(i.computerId),
    instanceTreeId: text(i.instanceTreeId),
    message: text(i.message),
    source: oneOf(i.source, BANG_SOURCES, 'manual'),
    createdAt: text(i.createdAt),
    fannedOutTo: numOrNull(i.fannedOutTo) ?? 0,
    fanOut: oneOf(i.fanOut, ['pending', 'done', 'rejected'] as const, 'pending'),
    fanOutCompletedAt: textOrNull(i.fanOutCompletedAt),
    accepted: i.accepted !== false,
  };
}

/** A session item, or null when it lacks what a live session needs (mac, expiry). */
export function sessionFromItem(sessionKey: string, i: Item): SessionRecord | null {
  if (typeof i.mac !== 'string' || typeof i.expiresAt !== 'number') return null;
  return { sessionKey, mac: i.mac, createdAt: text(i.createdAt), expiresAt: i.expiresAt };
}

export function summaryRecordFromItem(i: Item): FleetSummaryRecord | null {
  if (typeof i.asOf !== 'string') return null;
  return {
    computers: { green: num(i.cg), orange: num(i.co), red: num(i.cr) },
    partitionsRed: num(i.pr),
    partitionsTotal: num(i.pt),
    asOf: i.asOf,
  };
}
