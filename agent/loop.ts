// The agent loop (slapgrid): every cycle — heartbeat (a keeper also heartbeats whenever a
// cycle runs long), replay the spools (agent/replay.ts: each partition on its own, within a
// time budget), then for each partition under the instance root either (re)instantiate it
// (master asked, new, periodic — ahead of the master's freshness limit —, failed + back-off
// elapsed) and post an instantiation report, or run its anomaly check, post a report when
// its state changed, and bang on an anomaly (throttled).
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HeartbeatPartition, ID_PATTERN, type PromiseReport, type ReportRequest, type Reprocess } from '../protocol/index.ts';
import { REPORT_FIT_BYTES } from '../protocol/limits.ts';
import { type BackoffPolicy, DEFAULT_BACKOFF, nextAttemptAt } from './backoff.ts';
import { partitionSpool, secondsToNextUtcDay, sendBang } from './bang.ts';
import type { MasterClient } from './client.ts';
import { HeartbeatKeeper } from './heartbeat.ts';
import { runPartitionPromises } from './engine/index.ts';
import type { PartitionRunResult, PromiseRunResult, RunOptions } from './engine/types.ts';
import { runInstantiate, startServices } from './instantiate.ts';
import type { Logger } from './log.ts';
import { capMessage, MESSAGE_CAP } from './promise/result.ts';
import { PARK_AFTER, SpoolReplayer } from './replay.ts';
import {
  bangBlockedReason,
  type PartitionState,
  readLastBang,
  readPartitionState,
  writePartitionState,
} from './state.ts';

export interface AgentSettings {
  masterUrl: string;
  computerId: string;
  instanceRoot: string;
  /** time between cycle starts (≤ 60 s: the heartbeat must come at least every minute) */
  intervalMs: number;
  /** etc/instantiate timeout */
  instantiateTimeoutMs: number;
  backoff: BackoffPolicy;
  /** used when the master does not send the computer's frequency */
  defaultFrequencySeconds: number;
  /** per-promise timeout passed to the engine (engine default when absent) */
  promiseTimeoutSeconds?: number;
  /** partitions processed at the same time */
  concurrency: number;
  /**
   * supervisord configuration (from `vigil supervisord-config`): when set, a successful
   * etc/instantiate is followed by `supervisorctl -c FILE start <partition>:*`
   */
  supervisordConfig?: string;
  /** first delay of the quick heartbeats after a bang (then doubled, 3 at most), to pick up the fan-out */
  followUpMs: number;
  /**
   * longest time between two heartbeat requests, whatever the cycle is doing (default and
   * maximum 60 s, SPEC §2; the keeper uses min(this, intervalMs))
   */
  heartbeatMaxGapMs: number;
  /** a spooled item is parked after this many 5xx answers */
  parkAfter: number;
  /** parked items are offered to the master again this often */
  parkedRetryMs: number;
}

export const DEFAULT_SETTINGS: Omit<AgentSettings, 'masterUrl' | 'computerId' | 'instanceRoot'> = {
  intervalMs: 60_000,
  instantiateTimeoutMs: 600_000,
  backoff: DEFAULT_BACKOFF,
  defaultFrequencySeconds: 86_400,
  concurrency: 2,
  followUpMs: 500,
  heartbeatMaxGapMs: 60_000,
  parkAfter: PARK_AFTER,
  parkedRetryMs: 3_600_000,
};

export type RunPromises = (opts: RunOptions) => Promise<PartitionRunResult>;

export interface AgentDeps {
  client: MasterClient;
  log: Logger;
  now?: () => Date;
  runPromises?: RunPromises;
}

export type PartitionAction =
  | { partitionId: string; action: 'instantiated'; ok: boolean; reason: string; error?: string; durationMs: number }
  | { partitionId: string; action: 'checked'; ok: boolean; reported: boolean; banged: boolean; note?: string }
  | { partitionId: string; action: 'waiting'; until: string }
  | { partitionId: string; action: 'error'; error: string };

export interface CycleSummary {
  cycle: number;
  heartbeatOk: boolean;
  partitions: PartitionAction[];
  spoolDepth: number;
  banged: boolean;
  failed: boolean;
  durationMs: number;
}

/** Read `<partition>/periodicity` (seconds); undefined when absent or invalid. */
export function readPeriodicityFile(partitionDir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(partitionDir, 'periodicity'), 'utf8').trim();
  } catch {
    return undefined;
  }
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Room for the promises' test run and the report's delivery, on top of interval + etc/instantiate timeout. */
export const LEAD_MARGIN_SECONDS = 30;

/**
 * How long before the master's freshness limit (period = min(1 day, SR periodicity, computer
 * frequency), counted from the receipt of the last report) a partition is re-instantiated, so
 * that a healthy partition never turns red because its report aged (SPEC §2): one cycle, the
 * etc/instantiate timeout and a margin (promise run, report delivery) — but at most half the
 * period, else a short period (an SR asking every 20 s, with a 600 s timeout) would mean
 * instantiating all the time. Pure: exported for tests.
 */
export function reinstantiationLeadSeconds(args: { periodSeconds: number; intervalMs: number; instantiateTimeoutMs: number }): number {
  const full = (args.intervalMs + args.instantiateTimeoutMs) / 1000 + LEAD_MARGIN_SECONDS;
  return Math.min(full, args.periodSeconds / 2);
}

/** Why a partition must be (re)instantiated now, or undefined. Pure: exported for tests. */
export function instantiationReason(args: {
  state: PartitionState;
  flag?: Reprocess;
  now: Date;
  periodSeconds: number;
  /** re-instantiate this long before the period ends (reinstantiationLeadSeconds) */
  leadSeconds?: number;
}): string | undefined {
  const { state, flag, now } = args;
  if (flag && (!state.reprocessServedUpTo || Date.parse(flag.requestedAt) > Date.parse(state.reprocessServedUpTo))) {
    const why = (flag.reason || 'reprocess').split('\n')[0]!;
    return `master asked: ${why.length > 70 ? `${why.slice(0, 69)}…` : why}`;
  }
  if (!state.lastInstantiationAt) return 'new partition';
  if (state.lastInstantiationOk === false) {
    if (!state.nextAttemptAt || Date.parse(state.nextAttemptAt) <= now.getTime()) {
      return `retry after ${state.failures} failure${state.failures === 1 ? '' : 's'}`;
    }
    return undefined;
  }
  // measured from the start of the last instantiation: its report reached the master later
  const since = Date.parse(state.lastInstantiationStartedAt ?? state.lastInstantiationAt);
  const age = now.getTime() - since;
  const dueAfter = (args.periodSeconds - (args.leadSeconds ?? 0)) * 1000;
  if (!(age < dueAfter)) {
    return `periodic (last instantiation ${Math.round(age / 1000)} s ago; the master's limit is ${args.periodSeconds} s)`;
  }
  return undefined;
}

/** What a report says about a partition: "ok", or the failed promises / error. */
export function stateSignature(ok: boolean, promises: { title: string; failed: boolean }[], error?: string): string {
  if (ok) return 'ok';
  const failed = promises
    .filter((p) => p.failed)
    .map((p) => p.title)
    .sort();
  return `failed:${error ? 'error;' : ''}${failed.join(',')}`;
}

function toReportPromises(results: PromiseRunResult[]): PromiseReport[] {
  const byName = new Map<string, PromiseReport>();
  for (const r of results) {
    if (r.skipped && !r.failed) continue;
    const p: PromiseReport = {
      name: r.name,
      title: r.title,
      kind: r.kind,
      failed: r.failed,
      message: capMessage(r.message),
      date: r.date,
      executionTimeMs: Math.max(0, r.executionTimeMs),
      ...(typeof r.periodicityMinutes === 'number' && r.periodicityMinutes > 0 ? { periodicityMinutes: r.periodicityMinutes } : {}),
    };
    // two files with one name (etc/plugin/x.json and etc/promise/x.json) are one entry for
    // the master, which keys a promise's history by name and date: the failure wins
    const seen = byName.get(p.name);
    if (!seen) byName.set(p.name, p);
    else if (p.failed && !seen.failed) byName.set(p.name, p);
    else if (p.failed && seen.failed) byName.set(p.name, { ...seen, message: capMessage(`${seen.message}\n${p.message}`) });
  }
  return [...byName.values()];
}

/**
 * A report's `error`: the failure, then the engine's warnings (files of etc/promise that are
 * not promises). Warnings alone leave the report OK (the reference only warns): the master
 * keeps them with the report and the dashboard shows them.
 */
export function withWarnings(error: string | undefined, warnings: string[]): { error?: string } {
  const shown = warnings.slice(0, 5).map((w) => `warning: ${w}`);
  if (warnings.length > 5) shown.push(`warning: and ${warnings.length - 5} more`);
  const text = [error, ...shown].filter((x): x is string => Boolean(x)).join('\n');
  return text ? { error: capMessage(text) } : {};
}

/** The master refuses bodies over 256 KiB (413) and more than 1000 promises: shrink to fit. */
export function fitReport(body: ReportRequest, maxBytes = REPORT_FIT_BYTES): ReportRequest {
  let promises = body.promises;
  if (promises.length > 1000) {
    // keep the failures first: they decide the colour
    promises = [...promises.filter((p) => p.failed), ...promises.filter((p) => !p.failed)].slice(0, 1000);
  }
  let out: ReportRequest = { ...body, promises };
  let cap = MESSAGE_CAP;
  while (Buffer.byteLength(JSON.stringify(out)) > maxBytes && cap > 50) {
    cap = Math.max(50, Math.floor(cap / 2));
    const c = cap;
    out = {
      ...out,
      ...(out.error && out.error.length > c ? { error: out.error.slice(-c) } : {}),
      promises: out.promises.map((p) => (p.message.length > c ? { ...p, message: `…${p.message.slice(-(c - 1))}` } : p)),
    };
  }
  return out;
}

export class Agent {
  private readonly now: () => Date;
  private readonly runPromises: RunPromises;
  private cycleNo = 0;
  private frequencySeconds: number;
  private known = new Map<string, HeartbeatPartition>();
  private warnedUnknown = new Set<string>();
  private warnedMissing = new Set<string>();
  private heardFromMaster = false;
  private readonly replayer: SpoolReplayer;
  readonly heartbeats: HeartbeatKeeper;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    readonly settings: AgentSettings,
    private readonly deps: AgentDeps,
  ) {
    this.now = deps.now ?? (() => new Date());
    this.runPromises = deps.runPromises ?? runPartitionPromises;
    this.frequencySeconds = settings.defaultFrequencySeconds;
    this.replayer = new SpoolReplayer(
      {
        client: deps.client,
        log: deps.log,
        now: this.now,
        instanceRoot: settings.instanceRoot,
        onBangQuota: (dir, id, retryAfter, message) => this.noteBangQuota(dir, id, retryAfter, message),
      },
      { parkAfter: settings.parkAfter, parkedRetryMs: settings.parkedRetryMs },
    );
    this.heartbeats = new HeartbeatKeeper(deps.client, Math.min(settings.intervalMs, settings.heartbeatMaxGapMs), deps.log);
  }

  private get log(): Logger {
    return this.deps.log;
  }

  /** Partition directories under the instance root, sorted. */
  listPartitions(): string[] {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(this.settings.instanceRoot, { withFileTypes: true });
    } catch (err) {
      this.log.error(`cannot read instance root ${this.settings.instanceRoot}: ${(err as Error).message}`);
      return [];
    }
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && ID_PATTERN.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  spoolDepth(partitions = this.listPartitions()): number {
    return this.replayer.depth(partitions);
  }

  /** One replay round over these partitions' spools, each on its own (agent/replay.ts). */
  async flushSpools(partitions: string[]): Promise<{ sent: number; bangs: number; dropped: number; parked: number; stopped?: string }> {
    const r = await this.replayer.replay(partitions, Math.max(1000, this.settings.intervalMs));
    if (r.sent || r.dropped || r.parked) {
      this.log.debug(`spool: ${r.sent} replayed, ${r.dropped} dropped, ${r.parked} parked${r.stopped ? ` (${r.stopped})` : ''}`);
    }
    return r;
  }

  private noteBangQuota(partitionDir: string, partitionId: string, retryAfterSeconds: number | undefined, message: string) {
    const until = new Date(this.now().getTime() + (retryAfterSeconds ?? secondsToNextUtcDay(this.now())) * 1000).toISOString();
    const state = readPartitionState(partitionDir);
    state.bangWaitUntil = until;
    writePartitionState(partitionDir, state);
    this.log.warn(`bang ${partitionId}: refused by the master's daily quota; no bang before ${until} (${message})`, {
      partitionId,
      bangWaitUntil: until,
    });
  }

  /** Post a report now, or spool it (behind anything already spooled) when the master can't take it. */
  private async deliverReport(partitionDir: string, partitionId: string, full: ReportRequest): Promise<string> {
    const body = fitReport(full);
    const spool = partitionSpool(partitionDir);
    const enqueue = () => spool.enqueue({ kind: 'report', partitionId, body, queuedAt: this.now().toISOString() });
    if (spool.depth() > 0 || this.replayer.reportWaitUntil > this.now().getTime()) {
      enqueue();
      return 'spooled';
    }
    const r = await this.deps.client.report(partitionId, body);
    if (r.ok) return 'sent';
    if (r.retryable) {
      if (r.status === 429) this.replayer.reportWaitUntil = this.now().getTime() + (r.retryAfterSeconds ?? 60) * 1000;
      enqueue();
      this.log.warn(`report ${partitionId}: not taken by the master (${r.message}); spooled`);
      return 'spooled';
    }
    this.log.error(`report ${partitionId}: rejected by the master: ${r.message}`);
    return 'rejected';
  }

  /** Record in the partition's state whether the master assigns it to this computer. */
  private noteAssigned(partitionId: string, assigned: boolean): void {
    const dir = join(this.settings.instanceRoot, partitionId);
    try {
      const state = readPartitionState(dir);
      if (state.assigned === assigned) return;
      state.assigned = assigned;
      writePartitionState(dir, state);
    } catch (err) {
      this.log.warn(`${partitionId}: cannot record its state: ${(err as Error).message}`, { partitionId });
    }
  }

  private periodSeconds(partitionDir: string, partitionId: string): number {
    const candidates = [this.frequencySeconds];
    const file = readPeriodicityFile(partitionDir);
    if (file) candidates.push(file);
    const master = this.known.get(partitionId)?.periodicitySeconds;
    if (typeof master === 'number' && master > 0) candidates.push(master);
    return Math.min(...candidates);
  }

  private async instantiate(
    partitionId: string,
    partitionDir: string,
    state: PartitionState,
    reason: string,
    flag: Reprocess | undefined,
  ): Promise<PartitionAction> {
    const startedAt = this.now();
    this.log.info(`${partitionId}: instantiating (${reason})`, { partitionId, event: 'instantiate', reason });
    const inst = await runInstantiate({
      partitionDir,
      partitionId,
      computerId: this.settings.computerId,
      masterUrl: this.settings.masterUrl,
      timeoutMs: this.settings.instantiateTimeoutMs,
    });
    let promises: PromiseReport[] = [];
    let ok = inst.ok;
    let error = inst.error;
    if (ok && this.settings.supervisordConfig) {
      const sv = await startServices({ partitionDir, partitionId, supervisordConfig: this.settings.supervisordConfig });
      if (!sv.ok) {
        ok = false;
        error = `services not started: ${sv.error ?? 'supervisorctl failed'}`;
      }
    }
    let warnings: string[] = [];
    if (ok) {
      try {
        const res = await this.runPromises(this.promiseOptions(partitionId, partitionDir, 'test'));
        this.debugResults(partitionId, res.results);
        promises = toReportPromises(res.results);
        ok = res.ok;
        warnings = res.warnings ?? [];
      } catch (err) {
        ok = false;
        error = `promise run failed: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    const finishedAt = this.now();
    const durationMs = Math.max(0, finishedAt.getTime() - startedAt.getTime());
    const body: ReportRequest = {
      reportId: randomUUID(),
      kind: 'instantiation',
      startedAt: startedAt.toISOString(),
      durationMs,
      ok,
      promises,
      ...withWarnings(error, warnings),
      ...(flag ? { reprocessedUpTo: flag.requestedAt } : {}),
    };
    const delivered = await this.deliverReport(partitionDir, partitionId, body);
    const next: PartitionState = { ...readPartitionState(partitionDir) };
    next.lastInstantiationStartedAt = startedAt.toISOString();
    next.lastInstantiationAt = finishedAt.toISOString();
    next.lastInstantiationOk = ok;
    next.lastInstantiationDurationMs = durationMs;
    next.lastReportedSignature = stateSignature(ok, promises, error);
    if (flag) next.reprocessServedUpTo = flag.requestedAt;
    if (ok) {
      next.lastSuccessAt = finishedAt.toISOString();
      next.failures = 0;
      delete next.nextAttemptAt;
      delete next.lastError;
      delete next.bangWaitUntil;
    } else {
      next.failures = (state.lastInstantiationOk === false ? state.failures : 0) + 1;
      next.nextAttemptAt = nextAttemptAt(finishedAt, next.failures, this.settings.backoff).toISOString();
      next.lastError = error ?? stateSignature(ok, promises);
    }
    writePartitionState(partitionDir, next);
    const failedNames = promises.filter((p) => p.failed).map((p) => p.title);
    const what = ok
      ? 'ok'
      : `FAILED: ${error ? error.split('\n')[0] : `promises ${failedNames.join(', ')}`}; retry after ${next.nextAttemptAt}`;
    this.log.info(
      `${partitionId}: instantiation ${what} (${durationMs} ms, ${promises.length} promises, report ${delivered})`,
      {
        partitionId,
        event: 'instantiated',
        ok,
        durationMs,
        report: delivered,
        failures: next.failures,
        ...(next.nextAttemptAt ? { retryInMs: Date.parse(next.nextAttemptAt) - finishedAt.getTime() } : {}),
      },
    );
    return {
      partitionId,
      action: 'instantiated',
      ok,
      reason,
      durationMs,
      ...(error ? { error } : {}),
    };
  }

  /** --verbose: one line per promise result. */
  private debugResults(partitionId: string, results: PromiseRunResult[]): void {
    if (!this.log.verbose) return;
    for (const r of results) {
      const msg = r.message.split('\n').filter(Boolean).at(-1) ?? '';
      const what = r.skipped && !r.failed ? 'skipped (periodicity)' : r.failed ? `FAILED: ${msg}` : `ok${msg ? `: ${msg}` : ''}`;
      this.log.debug(`${partitionId}: promise ${r.title} (${r.kind}) ${what.length > 300 ? `${what.slice(0, 299)}…` : what} [${r.executionTimeMs} ms]`, {
        partitionId,
        event: 'promise',
        promise: r.title,
        kind: r.kind,
        failed: r.failed,
      });
    }
  }

  private promiseOptions(partitionId: string, partitionDir: string, mode: 'test' | 'anomaly'): RunOptions {
    return {
      partitionDir,
      mode,
      force: mode === 'test',
      config: { partitionId, computerId: this.settings.computerId, masterUrl: this.settings.masterUrl },
      ...(this.settings.promiseTimeoutSeconds ? { timeoutSeconds: this.settings.promiseTimeoutSeconds } : {}),
    };
  }

  private async check(partitionId: string, partitionDir: string, state: PartitionState): Promise<PartitionAction> {
    const startedAt = this.now();
    const res = await this.runPromises(this.promiseOptions(partitionId, partitionDir, 'anomaly'));
    this.debugResults(partitionId, res.results);
    const promises = toReportPromises(res.results);
    const signature = stateSignature(res.ok, promises);
    let reported = false;
    if (signature !== state.lastReportedSignature) {
      const body: ReportRequest = {
        reportId: randomUUID(),
        kind: 'anomaly',
        startedAt: startedAt.toISOString(),
        durationMs: Math.max(0, res.durationMs),
        ok: res.ok,
        promises,
        ...withWarnings(undefined, res.warnings ?? []),
      };
      const delivered = await this.deliverReport(partitionDir, partitionId, body);
      const next = readPartitionState(partitionDir);
      next.lastReportedSignature = signature;
      writePartitionState(partitionDir, next);
      reported = true;
      const failed = promises.filter((p) => p.failed).map((p) => p.title);
      this.log.info(
        `${partitionId}: state changed to ${res.ok ? 'ok' : `failing (${failed.join(', ')})`}; anomaly report ${delivered}`,
        { partitionId, event: 'state-change', ok: res.ok, report: delivered },
      );
    }
    let banged = false;
    let note: string | undefined;
    if (res.bang.due) {
      const blocked = bangBlockedReason(readPartitionState(partitionDir), readLastBang(partitionDir), this.now());
      const why = res.bang.message ?? `promise ${res.bang.promise ?? '?'} detected an anomaly`;
      if (blocked) {
        note = `no bang: ${blocked}`;
        this.log.debug(`${partitionId}: anomaly (${why}); ${note}`, { partitionId });
      } else {
        const b = await sendBang({
          client: this.deps.client,
          partitionDir,
          partitionId,
          message: why,
          source: 'promise',
          now: this.now,
        });
        switch (b.outcome) {
          case 'sent':
            banged = true;
            this.log.info(`${partitionId}: BANG (${why}); fanned out to ${b.fannedOutTo ?? '?'} partitions`, {
              partitionId,
              event: 'bang',
              bangId: b.bangId,
            });
            break;
          case 'spooled':
            banged = true;
            this.log.warn(`${partitionId}: BANG spooled (${b.reason})`, { partitionId, event: 'bang', bangId: b.bangId });
            break;
          case 'quota':
            this.noteBangQuota(partitionDir, partitionId, b.retryAfterSeconds, b.message);
            note = 'bang refused by quota';
            break;
          case 'rejected':
            this.log.error(`${partitionId}: bang rejected by the master: ${b.message}`, { partitionId });
            note = 'bang rejected';
            break;
        }
      }
    }
    return { partitionId, action: 'checked', ok: res.ok, reported, banged, ...(note ? { note } : {}) };
  }

  private async processPartition(partitionId: string, flags: Map<string, Reprocess>): Promise<PartitionAction> {
    const partitionDir = join(this.settings.instanceRoot, partitionId);
    try {
      const state = readPartitionState(partitionDir);
      const flag = flags.get(partitionId);
      const periodSeconds = this.periodSeconds(partitionDir, partitionId);
      const leadSeconds = reinstantiationLeadSeconds({
        periodSeconds,
        intervalMs: this.settings.intervalMs,
        instantiateTimeoutMs: this.settings.instantiateTimeoutMs,
      });
      const reason = instantiationReason({ state, now: this.now(), periodSeconds, leadSeconds, ...(flag ? { flag } : {}) });
      if (reason) return await this.instantiate(partitionId, partitionDir, state, reason, flag);
      if (state.lastInstantiationOk === false) {
        return { partitionId, action: 'waiting', until: state.nextAttemptAt ?? '' };
      }
      return await this.check(partitionId, partitionDir, state);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.log.error(`${partitionId}: ${error}`, { partitionId });
      return { partitionId, action: 'error', error };
    }
  }

  /** What a heartbeat answer means for this cycle: the partitions to process, the reprocess flags. */
  private applyHeartbeat(
    hb: Awaited<ReturnType<MasterClient['heartbeat']>>,
    onDisk: string[],
  ): { ok: boolean; flags: Map<string, Reprocess>; partitions: string[] } {
    const flags = new Map<string, Reprocess>();
    if (!hb.ok) return { ok: false, flags, partitions: this.offlinePartitions(hb, onDisk) };
    const reply = hb.body;
    if (reply.instantiationFrequencySeconds) this.frequencySeconds = reply.instantiationFrequencySeconds;
    this.known = new Map(reply.partitions.map((p) => [p.partitionId, p]));
    for (const r of reply.reprocess) {
      const prev = flags.get(r.partitionId);
      if (!prev || Date.parse(r.requestedAt) > Date.parse(prev.requestedAt)) flags.set(r.partitionId, r);
    }
    this.heardFromMaster = true;
    this.log.debug(
      `heartbeat ok: ${reply.partitions.length} partitions assigned, ${reply.reprocess.length} reprocess request${reply.reprocess.length === 1 ? '' : 's'}` +
        (reply.reprocess.length ? ` (${reply.reprocess.map((r) => `${r.partitionId} at ${r.requestedAt}`).join(', ')})` : ''),
      { event: 'heartbeat', assigned: reply.partitions.length, reprocess: reply.reprocess.length },
    );
    for (const p of onDisk) this.noteAssigned(p, this.known.has(p));
    const unknown = onDisk.filter((p) => !this.known.has(p));
    for (const p of unknown) {
      if (!this.warnedUnknown.has(p)) {
        this.warnedUnknown.add(p);
        this.log.warn(
          `${p}: not assigned to computer ${this.settings.computerId} at the master; skipped ` +
            `(assign it with 'vigil admin partition set ${p} --computer ${this.settings.computerId} ...')`,
          { partitionId: p, event: 'unknown-partition' },
        );
      }
    }
    for (const p of onDisk) if (this.known.has(p)) this.warnedUnknown.delete(p);
    const missing = [...this.known.keys()].filter((p) => !onDisk.includes(p));
    for (const p of missing) {
      if (!this.warnedMissing.has(p)) {
        this.warnedMissing.add(p);
        this.log.warn(
          `${p}: assigned to computer ${this.settings.computerId} by the master, but ${join(this.settings.instanceRoot, p)} does not exist`,
          { partitionId: p, event: 'missing-partition' },
        );
      }
    }
    for (const p of this.warnedMissing) if (!this.known.has(p) || onDisk.includes(p)) this.warnedMissing.delete(p);
    return { ok: true, flags, partitions: onDisk.filter((p) => this.known.has(p)) };
  }

  /** The heartbeat failed: say why, and work on the partitions known to be assigned. */
  private offlinePartitions(hb: { status?: number; message: string }, onDisk: string[]): string[] {
    if (hb.status === 401) {
      this.log.error(
        `heartbeat refused: ${hb.message}. The computer token is not accepted: write a valid one to the token file ` +
          `(a new token: 'vigil admin computer token ${this.settings.computerId}'; the file is re-read when it changes). ` +
          'Reports and bangs are spooled meanwhile.',
        { event: 'heartbeat', status: hb.status },
      );
    } else if (hb.status === 403 || hb.status === 404) {
      this.log.error(`heartbeat refused: ${hb.message}. Check --computer ${this.settings.computerId} and the token file.`, {
        event: 'heartbeat',
        status: hb.status,
      });
    } else {
      this.log.warn(`heartbeat failed: ${hb.message} (working offline; reports are spooled)`, { event: 'heartbeat' });
    }
    // offline: only the partitions the master assigned to this computer (this run's last
    // answer, else the last one recorded in each partition's state)
    const assigned = onDisk.filter((p) =>
      this.heardFromMaster ? this.known.has(p) : readPartitionState(join(this.settings.instanceRoot, p)).assigned === true,
    );
    for (const p of onDisk) {
      if (!assigned.includes(p) && !this.warnedUnknown.has(p)) {
        this.warnedUnknown.add(p);
        this.log.warn(
          `${p}: not known to be assigned to computer ${this.settings.computerId} (no answer from the master yet); skipped until the master confirms it`,
          { partitionId: p, event: 'unknown-partition' },
        );
      }
    }
    return assigned;
  }

  /** One cycle. Never throws for master or partition failures. */
  async cycle(): Promise<CycleSummary> {
    const started = Date.now();
    const cycle = ++this.cycleNo;
    const hb = await this.heartbeats.beat();
    const { ok: heartbeatOk, flags, partitions } = this.applyHeartbeat(hb, this.listPartitions());
    // the master answers: send what is waiting (each partition on its own, time-bounded)
    let bangsReplayed = heartbeatOk ? (await this.flushSpools(partitions)).bangs : 0;
    // a long cycle (slow etc/instantiate, slow master) still heartbeats: the keeper's timer
    const actions = await mapLimit(partitions, this.settings.concurrency, (p) => this.processPartition(p, flags));
    // the master may be back: send what this cycle spooled
    if (heartbeatOk) bangsReplayed += (await this.flushSpools(partitions)).bangs;
    const summary: CycleSummary = {
      cycle,
      heartbeatOk,
      partitions: actions,
      spoolDepth: this.spoolDepth(),
      // a replayed bang counts: the loop heartbeats again soon to pick up its fan-out
      banged: bangsReplayed > 0 || actions.some((a) => a.action === 'checked' && a.banged),
      failed: actions.some((a) => a.action === 'error' || a.action === 'waiting' || ('ok' in a && !a.ok)),
      durationMs: Date.now() - started,
    };
    this.logCycle(summary);
    return summary;
  }

  /** The one info line per cycle. */
  private logCycle(summary: CycleSummary): void {
    const { cycle, heartbeatOk, spoolDepth, partitions: actions } = summary;
    const count = (f: (a: PartitionAction) => boolean) => actions.filter(f).length;
    const inst = count((a) => a.action === 'instantiated');
    const instFailed = count((a) => a.action === 'instantiated' && !a.ok);
    const checked = count((a) => a.action === 'checked');
    const anomalies = count((a) => a.action === 'checked' && !a.ok);
    const bangs = count((a) => a.action === 'checked' && a.banged);
    const waiting = count((a) => a.action === 'waiting');
    this.log.info(
      `cycle ${cycle}: heartbeat ${heartbeatOk ? 'ok' : 'FAILED'}; ${actions.length} partitions: ` +
        `${inst} instantiated${instFailed ? ` (${instFailed} failed)` : ''}, ${checked} checked` +
        `${anomalies ? ` (${anomalies} failing)` : ''}${waiting ? `, ${waiting} backing off` : ''}` +
        `${bangs ? `, ${bangs} bang${bangs > 1 ? 's' : ''}` : ''}; spool depth ${spoolDepth}; ${summary.durationMs} ms`,
      {
        event: 'cycle',
        cycle,
        heartbeatOk,
        partitions: actions.length,
        instantiated: inst,
        instantiationFailed: instFailed,
        checked,
        failing: anomalies,
        backingOff: waiting,
        bangs,
        spoolDepth,
        durationMs: summary.durationMs,
      },
    );
  }

  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** Run cycles until stop(); with once, a single cycle. Returns the last summary. */
  async run(opts: { once?: boolean } = {}): Promise<CycleSummary | undefined> {
    if (!opts.once) this.heartbeats.start();
    try {
      return await this.loop(opts);
    } finally {
      this.heartbeats.stop();
    }
  }

  private async loop(opts: { once?: boolean }): Promise<CycleSummary | undefined> {
    let last: CycleSummary | undefined;
    let followUps: { left: number; delayMs: number } | undefined;
    while (!this.stopping) {
      const t0 = Date.now();
      last = await this.cycle();
      if (opts.once || this.stopping) break;
      // after a bang, heartbeat again soon (1×, 2×, 4× followUpMs) until the master's
      // fan-out comes back as reprocess flags, instead of waiting a whole interval
      const served = last.partitions.some((a) => a.action === 'instantiated' && a.reason.startsWith('master asked'));
      if (last.banged) followUps = { left: 3, delayMs: this.settings.followUpMs };
      else if (served) followUps = undefined;
      let wait = Math.max(0, this.settings.intervalMs - (Date.now() - t0));
      if (followUps && followUps.left > 0) {
        wait = Math.min(wait, followUps.delayMs);
        followUps = { left: followUps.left - 1, delayMs: followUps.delayMs * 2 };
      }
      await new Promise<void>((resolveSleep) => {
        const timer = setTimeout(resolveSleep, wait);
        this.wake = () => {
          clearTimeout(timer);
          resolveSleep();
        };
      });
      this.wake = undefined;
    }
    return last;
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}
