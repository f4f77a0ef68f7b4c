// Per-partition agent state, kept under <partition>/.vigil/agent/ so it survives restarts
// and the watchdog (another process) can read it:
//   state.json      last instantiation, last success, failures/back-off, reprocess served,
//                   last reported state, bang quota wait-until
//   last-bang.json  the last bang sent from this partition (agent or watchdog): the throttle
//                   "no new bang until a successful instantiation after it" reads it.
import { join } from 'node:path';
import { isRecord, readJsonFile, writeFileAtomic } from './fsutil.ts';

export interface PartitionState {
  /** ISO time the last instantiation finished */
  lastInstantiationAt?: string;
  /** ISO time the last instantiation started (the periodic re-instantiation counts from it) */
  lastInstantiationStartedAt?: string;
  lastInstantiationOk?: boolean;
  lastInstantiationDurationMs?: number;
  lastError?: string;
  /** ISO time of the last successful instantiation */
  lastSuccessAt?: string;
  /** consecutive failed instantiations (0 after a success) */
  failures: number;
  /** ISO: a failed partition is not retried before this (unless the master asks) */
  nextAttemptAt?: string;
  /** ISO requestedAt of the newest master reprocess flag already served */
  reprocessServedUpTo?: string;
  /** signature of the last state reported to the master ("ok" or failed promise names) */
  lastReportedSignature?: string;
  /** ISO: the master refused a bang (429 quota); no bang before this */
  bangWaitUntil?: string;
  /**
   * whether the last heartbeat that answered listed this partition as assigned to this
   * computer: offline, only such partitions are processed (an unknown directory must not
   * be instantiated nor fill the spool with reports the master will refuse)
   */
  assigned?: boolean;
}

export interface LastBang {
  bangId: string;
  /** ISO time of the bang */
  bangAt: string;
  source: 'promise' | 'watchdog' | 'manual';
  /** lastSuccessAt of the partition when it banged (absent: never succeeded) */
  successAtBang?: string;
}

export function agentStateDir(partitionDir: string): string {
  return join(partitionDir, '.vigil', 'agent');
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function readPartitionState(partitionDir: string): PartitionState {
  const raw = readJsonFile(join(agentStateDir(partitionDir), 'state.json'));
  if (!isRecord(raw)) return { failures: 0 };
  const s: PartitionState = {
    failures: typeof raw.failures === 'number' && raw.failures >= 0 ? Math.floor(raw.failures) : 0,
  };
  for (const k of [
    'lastInstantiationAt',
    'lastInstantiationStartedAt',
    'lastError',
    'lastSuccessAt',
    'nextAttemptAt',
    'reprocessServedUpTo',
    'lastReportedSignature',
    'bangWaitUntil',
  ] as const) {
    const v = str(raw[k]);
    if (v !== undefined) s[k] = v;
  }
  if (typeof raw.lastInstantiationOk === 'boolean') s.lastInstantiationOk = raw.lastInstantiationOk;
  if (typeof raw.assigned === 'boolean') s.assigned = raw.assigned;
  if (typeof raw.lastInstantiationDurationMs === 'number') s.lastInstantiationDurationMs = raw.lastInstantiationDurationMs;
  return s;
}

export function writePartitionState(partitionDir: string, state: PartitionState): void {
  writeFileAtomic(join(agentStateDir(partitionDir), 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

export function readLastBang(partitionDir: string): LastBang | undefined {
  const raw = readJsonFile(join(agentStateDir(partitionDir), 'last-bang.json'));
  if (!isRecord(raw)) return undefined;
  const bangId = str(raw.bangId);
  const bangAt = str(raw.bangAt);
  const source = raw.source;
  if (!bangId || !bangAt || (source !== 'promise' && source !== 'watchdog' && source !== 'manual')) return undefined;
  const b: LastBang = { bangId, bangAt, source };
  const s = str(raw.successAtBang);
  if (s) b.successAtBang = s;
  return b;
}

export function writeLastBang(partitionDir: string, bang: LastBang): void {
  writeFileAtomic(join(agentStateDir(partitionDir), 'last-bang.json'), `${JSON.stringify(bang, null, 2)}\n`);
}

/**
 * The reference throttle (slapos watchdog): a partition that banged may bang again only
 * after a successful instantiation newer than that bang. Returns the reason when blocked.
 */
export function bangBlockedReason(state: PartitionState, last: LastBang | undefined, now: Date): string | undefined {
  if (state.bangWaitUntil && Date.parse(state.bangWaitUntil) > now.getTime()) {
    return `bang quota reached at the master; waiting until ${state.bangWaitUntil}`;
  }
  if (!last) return undefined;
  const success = state.lastSuccessAt ? Date.parse(state.lastSuccessAt) : Number.NaN;
  if (Number.isFinite(success) && success > Date.parse(last.bangAt)) return undefined;
  return `already banged at ${last.bangAt}; waiting for a successful instantiation`;
}
