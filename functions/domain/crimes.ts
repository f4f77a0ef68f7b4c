// Monitoring crimes (SPEC §3), pure: derived from the sequence of reports of a partition.
// The state folded from the reports is kept on the partition item, so it is compact and
// bounded (docs/decisions.md "Fleet scale: store layout"): the promises that failed and
// never passed (by name, with their failure counts, within a byte budget) and a fixed
// 64-byte Bloom filter of the names that passed at least once.
import type { Crime, ReportRequest } from '../../protocol/index.ts';

export const SLOW_INSTANTIATION_MS = 60_000;
/** A promise that failed in this many reports and never passed. */
export const NEVER_PASSES_AFTER = 3;
/** Consecutive instantiations starting less than this after the previous one ended. */
export const NEVER_SLEEPS_GAP_MS = 60_000;
export const NEVER_SLEEPS_STREAK = 3;
/** Bytes of names (+ 4 per entry) tracked as "failed, never passed": names past it are not tracked. */
export const NEVER_PASSED_BUDGET_BYTES = 160;
/** A tracked name is its first characters (a longer name is tracked, and shown, by its prefix). */
export const NEVER_PASSED_NAME_MAX = 64;
/** Size of the Bloom filter of passed names: 512 bits, 3 hashes (false positives: ~2e-4 with 10 names, ~4e-3 with 30). */
export const PASSED_FILTER_BYTES = 64;
const PASSED_FILTER_HASHES = 3;
const KEY_PREFIX = 'n:';
const nameOfKey = (k: string): string => (k.startsWith(KEY_PREFIX) ? k.slice(KEY_PREFIX.length) : k);

export interface CrimeState {
  /** Promises that failed and never passed (key `n:<name>`, name cut to NEVER_PASSED_NAME_MAX): reports they failed in. */
  neverPassed: Record<string, number>;
  /** Bloom filter of the names of promises that passed at least once (PASSED_FILTER_BYTES). */
  passed: Uint8Array;
  /** Duration of the latest instantiation. */
  lastInstantiationMs: number | null;
  /** End (agent clock, ms) of the latest instantiation. */
  lastInstantiationEnd: number | null;
  /** Consecutive instantiations that started right after the previous one. */
  busyStreak: number;
  /** Every promise of the latest report that said so runs every minute. */
  allEveryMinute: boolean;
}

export function emptyCrimeState(): CrimeState {
  return { neverPassed: {}, passed: new Uint8Array(PASSED_FILTER_BYTES), lastInstantiationMs: null, lastInstantiationEnd: null, busyStreak: 0, allEveryMinute: false };
}

/** FNV-1a (32 bits) of a string's UTF-16 code units, from `seed`. */
function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function filterBits(name: string, bits: number): number[] {
  const h1 = fnv1a(name, 0x811c9dc5);
  const h2 = fnv1a(name, 0x5bd1e995) | 1;
  return Array.from({ length: PASSED_FILTER_HASHES }, (_, i) => ((h1 + Math.imul(i, h2)) >>> 0) % bits);
}

/** Whether `name` is in the passed-names filter (false positives possible, no false negatives). */
export function hasPassed(filter: Uint8Array, name: string): boolean {
  if (filter.length === 0) return false;
  return filterBits(name, filter.length * 8).every((b) => ((filter[b >> 3] ?? 0) & (1 << (b & 7))) !== 0);
}

/** `filter` with `name` added (a new array when it changes; the size is kept). */
export function addPassed(filter: Uint8Array, name: string): Uint8Array {
  const out = filter.length === PASSED_FILTER_BYTES ? new Uint8Array(filter) : new Uint8Array(PASSED_FILTER_BYTES);
  for (const b of filterBits(name, out.length * 8)) out[b >> 3] = (out[b >> 3] ?? 0) | (1 << (b & 7));
  return out;
}

const trackedName = (name: string): string => (name.length > NEVER_PASSED_NAME_MAX ? name.slice(0, NEVER_PASSED_NAME_MAX) : name);
const entryBytes = (name: string): number => new TextEncoder().encode(name).length + KEY_PREFIX.length + 4;

type ReportForCrimes = Pick<ReportRequest, 'kind' | 'startedAt' | 'durationMs' | 'promises'>;

/** The promise part of the fold: never-passed counts and the passed filter. */
function foldPromises(prev: CrimeState, promises: ReportForCrimes['promises']): Pick<CrimeState, 'neverPassed' | 'passed'> {
  // A Map, not property assignment: promise names such as `__proto__` or `constructor` are
  // plain names; stored keys are prefixed (a map key `constructor` breaks DynamoDB marshalling).
  const never = new Map(Object.entries(prev.neverPassed).map(([k, v]) => [nameOfKey(k), v] as const));
  let passed = prev.passed;
  let used = [...never.keys()].reduce((n, k) => n + entryBytes(k), 0);
  for (const p of promises) {
    const name = trackedName(p.name);
    if (!p.failed) {
      if (!hasPassed(passed, p.name)) passed = addPassed(passed, p.name);
      if (never.delete(name)) used -= entryBytes(name);
      continue;
    }
    if (hasPassed(passed, p.name)) continue;
    const cur = never.get(name);
    if (cur === undefined) {
      if (used + entryBytes(name) > NEVER_PASSED_BUDGET_BYTES) continue;
      used += entryBytes(name);
    }
    never.set(name, (cur ?? 0) + 1);
  }
  return { neverPassed: Object.fromEntries([...never].map(([n, v]) => [`${KEY_PREFIX}${n}`, v])), passed };
}

/** Fold one (newest) report into the state. */
export function foldReport(prev: CrimeState, report: ReportForCrimes): CrimeState {
  const { neverPassed, passed } = foldPromises(prev, report.promises);
  let { lastInstantiationMs, lastInstantiationEnd, busyStreak } = prev;
  if (report.kind === 'instantiation') {
    const start = Date.parse(report.startedAt);
    if (lastInstantiationEnd !== null && start - lastInstantiationEnd < NEVER_SLEEPS_GAP_MS && start >= lastInstantiationEnd - 1000) {
      busyStreak += 1;
    } else {
      busyStreak = 0;
    }
    lastInstantiationMs = report.durationMs;
    lastInstantiationEnd = start + report.durationMs;
  }
  const withPeriod = report.promises.filter((p) => p.periodicityMinutes !== undefined);
  const allEveryMinute =
    report.promises.length > 0 && withPeriod.length === report.promises.length && withPeriod.every((p) => (p.periodicityMinutes ?? 0) <= 1);
  return { neverPassed, passed, lastInstantiationMs, lastInstantiationEnd, busyStreak, allEveryMinute };
}

export function crimesOf(state: CrimeState): Crime[] {
  const crimes: Crime[] = [];
  for (const [key, failures] of Object.entries(state.neverPassed)) {
    if (failures >= NEVER_PASSES_AFTER) {
      crimes.push({ code: 'promise-never-passes', message: `promise ${nameOfKey(key)} never passed (failed in ${failures} reports)` });
    }
  }
  if (state.lastInstantiationMs !== null && state.lastInstantiationMs > SLOW_INSTANTIATION_MS) {
    crimes.push({
      code: 'slow-instantiation',
      message: `instantiation took ${Math.round(state.lastInstantiationMs / 1000)} s (over ${SLOW_INSTANTIATION_MS / 1000} s)`,
    });
  }
  if (state.allEveryMinute) {
    crimes.push({ code: 'all-promises-every-minute', message: 'every promise runs at a 1-minute periodicity' });
  }
  if (state.busyStreak >= NEVER_SLEEPS_STREAK) {
    crimes.push({
      code: 'instantiation-never-sleeps',
      message: `${state.busyStreak + 1} instantiations in a row each started less than ${NEVER_SLEEPS_GAP_MS / 1000} s after the previous one`,
    });
  }
  return crimes;
}

/**
 * The state of the layout before issue 12 (`promises: {n:<name>: {passed, failures}}`) in
 * the compact form (used by the migration).
 */
export function crimeStateFromV1(v1: {
  promises: Record<string, { passed: boolean; failures: number }>;
  lastInstantiationMs: number | null;
  lastInstantiationEnd: number | null;
  busyStreak: number;
  allEveryMinute: boolean;
}): CrimeState {
  let state = { ...emptyCrimeState(), ...v1 };
  const neverPassed: Record<string, number> = {};
  let used = 0;
  for (const [key, p] of Object.entries(v1.promises)) {
    const name = nameOfKey(key);
    if (p.passed) state = { ...state, passed: addPassed(state.passed, name) };
    else if (p.failures > 0 && used + entryBytes(trackedName(name)) <= NEVER_PASSED_BUDGET_BYTES) {
      used += entryBytes(trackedName(name));
      neverPassed[`${KEY_PREFIX}${trackedName(name)}`] = p.failures;
    }
  }
  const { promises: _p, ...rest } = state;
  return { ...rest, neverPassed };
}
