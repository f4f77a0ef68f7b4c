// Monitoring crimes (SPEC §3), pure: derived from the sequence of reports of a partition.
import type { Crime, ReportRequest } from '../../protocol/index.ts';

export const SLOW_INSTANTIATION_MS = 60_000;
/** A promise that failed in this many reports and never passed. */
export const NEVER_PASSES_AFTER = 3;
/** Consecutive instantiations starting less than this after the previous one ended. */
export const NEVER_SLEEPS_GAP_MS = 60_000;
export const NEVER_SLEEPS_STREAK = 3;
const MAX_TRACKED_PROMISES = 300;
const KEY_PREFIX = 'n:';
/** The promise name of a stored key (keys written before the prefix are bare names). */
const nameOfKey = (k: string): string => (k.startsWith(KEY_PREFIX) ? k.slice(KEY_PREFIX.length) : k);

export interface CrimeState {
  /** Per promise (key `n:<name>`): has it ever passed, how many times did it fail. */
  promises: Record<string, { passed: boolean; failures: number }>;
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
  return { promises: {}, lastInstantiationMs: null, lastInstantiationEnd: null, busyStreak: 0, allEveryMinute: false };
}

type ReportForCrimes = Pick<ReportRequest, 'kind' | 'startedAt' | 'durationMs' | 'promises'>;

/** Fold one (newest) report into the state. */
export function foldReport(prev: CrimeState, report: ReportForCrimes): CrimeState {
  // A Map, not property assignment: promise names such as `__proto__` or `constructor` are
  // plain names; stored keys are prefixed (a map key `constructor` breaks DynamoDB marshalling).
  const byName = new Map(Object.entries(prev.promises).map(([k, v]) => [nameOfKey(k), v] as const));
  for (const p of report.promises) {
    const cur = byName.get(p.name);
    if (!cur && byName.size >= MAX_TRACKED_PROMISES) continue;
    const base = cur ?? { passed: false, failures: 0 };
    byName.set(p.name, p.failed ? { passed: base.passed, failures: base.failures + 1 } : { passed: true, failures: base.failures });
  }
  const promises: CrimeState['promises'] = Object.fromEntries([...byName].map(([n, v]) => [`${KEY_PREFIX}${n}`, v]));
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
  return { promises, lastInstantiationMs, lastInstantiationEnd, busyStreak, allEveryMinute };
}

export function crimesOf(state: CrimeState): Crime[] {
  const crimes: Crime[] = [];
  for (const [key, s] of Object.entries(state.promises)) {
    const name = nameOfKey(key);
    if (!s.passed && s.failures >= NEVER_PASSES_AFTER) {
      crimes.push({ code: 'promise-never-passes', message: `promise ${name} never passed (failed in ${s.failures} reports)` });
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
