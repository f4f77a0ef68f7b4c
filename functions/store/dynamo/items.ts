// Typed item mappers: each item type of the table parsed into its domain record, attribute by
// attribute (defaults for attributes older items may lack). Nothing else reads item values.
import type { BangSource, Colour, LastReportSummary, ReportKind } from '../../../protocol/index.ts';
import { DEFAULT_INSTANTIATION_FREQUENCY_SECONDS } from '../../domain/colours.ts';
import type { CrimeState } from '../../domain/crimes.ts';
import { DEFAULT_BANG_QUOTA_PER_DAY } from '../../domain/quota.ts';
import type { BangRecord, ColourFields, ComputerRecord, HistoryRecord, PartitionRecord, ReportRecord, SoftwareReleaseRecord } from '../../domain/records.ts';
import type { SessionRecord } from '../types.ts';
import type { Item } from './table-client.ts';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const textOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
function oneOf<T extends string>(v: unknown, values: readonly T[], fallback: T): T {
  return values.includes(v as T) ? (v as T) : fallback;
}

const COLOURS: readonly Colour[] = ['green', 'orange', 'red'];
const BANG_SOURCES: readonly BangSource[] = ['promise', 'watchdog', 'manual'];
const REPORT_KINDS: readonly ReportKind[] = ['instantiation', 'anomaly'];

export function softwareReleaseFromItem(i: Item): SoftwareReleaseRecord {
  return {
    softwareReleaseId: text(i.softwareReleaseId),
    url: text(i.url),
    periodicitySeconds: numOrNull(i.periodicitySeconds),
    bangQuotaPerDay: numOrNull(i.bangQuotaPerDay) ?? DEFAULT_BANG_QUOTA_PER_DAY,
    createdAt: text(i.createdAt),
    updatedAt: text(i.updatedAt),
  };
}

function colourFieldsFromItem(i: Item): ColourFields {
  return {
    colour: oneOf(i.colour, COLOURS, 'red'),
    colourReason: text(i.colourReason),
    colourSince: textOrNull(i.colourSince),
    sweepAt: textOrNull(i.gsi3sk),
  };
}

export function computerFromItem(i: Item): ComputerRecord {
  return {
    computerId: text(i.computerId),
    tokenHash: text(i.tokenHash),
    instantiationFrequencySeconds: numOrNull(i.instantiationFrequencySeconds) ?? DEFAULT_INSTANTIATION_FREQUENCY_SECONDS,
    lastContactAt: textOrNull(i.lastContactAt),
    agentVersion: textOrNull(i.agentVersion),
    ...colourFieldsFromItem(i),
    createdAt: text(i.createdAt),
    updatedAt: text(i.updatedAt),
  };
}

/** A stored report summary (written from a validated report, so read as that shape). */
function lastReportFromItem(v: unknown): LastReportSummary | null {
  return isObject(v) ? reportSummaryFromItem(v) : null;
}

function crimeStateFromItem(v: unknown): CrimeState | null {
  if (!isObject(v)) return null;
  const promises: CrimeState['promises'] = {};
  if (isObject(v.promises)) {
    for (const [k, p] of Object.entries(v.promises)) {
      if (isObject(p)) promises[k] = { passed: p.passed === true, failures: num(p.failures) };
    }
  }
  return {
    promises,
    lastInstantiationMs: numOrNull(v.lastInstantiationMs),
    lastInstantiationEnd: numOrNull(v.lastInstantiationEnd),
    busyStreak: num(v.busyStreak),
    allEveryMinute: v.allEveryMinute === true,
  };
}

export function partitionFromItem(i: Item): PartitionRecord {
  return {
    partitionId: text(i.partitionId),
    computerId: text(i.computerId),
    instanceTreeId: text(i.instanceTreeId),
    softwareReleaseId: text(i.softwareReleaseId),
    periodicitySeconds: numOrNull(i.periodicitySeconds),
    bangQuotaPerDay: numOrNull(i.bangQuotaPerDay) ?? DEFAULT_BANG_QUOTA_PER_DAY,
    computerFrequencySeconds: numOrNull(i.computerFrequencySeconds) ?? DEFAULT_INSTANTIATION_FREQUENCY_SECONDS,
    lastReport: lastReportFromItem(i.lastReport),
    lastReportKey: textOrNull(i.lastReportKey),
    reprocessRequestedAt: textOrNull(i.reprocessRequestedAt),
    reprocessReason: textOrNull(i.reprocessReason),
    reprocessBangId: textOrNull(i.reprocessBangId),
    reprocessedUpTo: textOrNull(i.reprocessedUpTo),
    lastBangAt: textOrNull(i.lastBangAt),
    crimeState: crimeStateFromItem(i.crimeState),
    ...colourFieldsFromItem(i),
    createdAt: text(i.createdAt),
    updatedAt: text(i.updatedAt),
  };
}

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

function reportSummaryFromItem(i: Record<string, unknown>): LastReportSummary {
  return {
    reportId: text(i.reportId),
    kind: oneOf(i.kind, REPORT_KINDS, 'instantiation'),
    startedAt: text(i.startedAt),
    durationMs: num(i.durationMs),
    ok: i.ok === true,
    error: textOrNull(i.error),
    receivedAt: text(i.receivedAt),
    promiseCount: num(i.promiseCount),
    failed: Array.isArray(i.failed) ? i.failed.filter(isObject).map((f) => ({ name: text(f.name), message: text(f.message) })) : [],
  };
}

export function reportFromItem(i: Item): ReportRecord {
  return { ...reportSummaryFromItem(i), partitionId: text(i.partitionId), expiresAt: num(i.expiresAt) };
}

export function historyFromItem(i: Item): HistoryRecord {
  const periodicityMinutes = numOrNull(i.periodicityMinutes);
  return {
    partitionId: text(i.partitionId),
    name: text(i.name),
    title: text(i.title),
    kind: oneOf(i.kind, ['test', 'anomaly'] as const, 'test'),
    failed: i.failed === true,
    message: text(i.message),
    date: text(i.date),
    executionTimeMs: num(i.executionTimeMs),
    ...(periodicityMinutes === null ? {} : { periodicityMinutes }),
    reportId: text(i.reportId),
    receivedAt: text(i.receivedAt),
    expiresAt: num(i.expiresAt),
  };
}

/** A session item, or null when it lacks what a live session needs (mac, expiry). */
export function sessionFromItem(sessionKey: string, i: Item): SessionRecord | null {
  if (typeof i.mac !== 'string' || typeof i.expiresAt !== 'number') return null;
  return { sessionKey, mac: i.mac, createdAt: text(i.createdAt), expiresAt: i.expiresAt };
}
