// The promise launcher: runs every promise of a partition, isolated, with a timeout and
// bounded concurrency, and returns a structured run result (contract: see types.ts).
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { stockPluginNames } from '../plugins/names.ts';
import { capMessage } from '../promise/result.ts';
import { discoverPromisesWithWarnings, type PromiseEntry } from './discover.ts';
import { runLegacy } from './legacy.ts';
import { OutputPipes } from './output-pipe.ts';
import { RunnerPool } from './pool.ts';
import {
  ensureDirs,
  loadState,
  type PromiseCache,
  removeStale,
  type SavedState,
  saveState,
  stateDirs,
  validCache,
} from './state.ts';
import type { PartitionRunResult, PromiseRunResult, RunOptions } from './types.ts';

export type { PartitionRunResult, ProgressEvent, PromiseRunResult, RunOptions } from './types.ts';
export { discoverPromises, discoverPromisesWithWarnings, type PromiseEntry } from './discover.ts';
export { stateDirs } from './state.ts';

export const DEFAULT_TIMEOUT_SECONDS = 20;
/** One day: far above any sane promise, and below setTimeout's 2^31-1 ms limit. */
export const MAX_TIMEOUT_SECONDS = 86_400;
/** Legacy promises run every 2 minutes at most (like the reference wrapper). */
const LEGACY_PERIODICITY_MIN = 2;

/** Thrown for bad options (unknown --run-only titles, missing partition...): nothing ran. */
export class EngineUsageError extends Error {}

interface Outcome {
  failed: boolean;
  message: string;
  executionTimeMs: number;
  skipped?: boolean;
  bang?: boolean;
  /** persisted as the last result (not for skips). */
  save: boolean;
  type?: string;
  periodicityMinutes?: number;
  /** the new periodicity cache (none: the saved one stays). */
  cache?: PromiseCache;
}

/** What every promise of one run shares. */
interface RunContext {
  opts: RunOptions;
  partitionDir: string;
  dirs: ReturnType<typeof stateDirs>;
  /** Where promise logs go (a throw-away copy in a dry run). */
  logFolder: string;
  timeoutSeconds: number;
  checkAnomaly: boolean;
  /** Default config keys of every plugin (partition-id, computer-id, master-url, promise-timeout). */
  defaults: Record<string, unknown>;
  /** The runner processes of plugin promises, started on first use. */
  pool(): RunnerPool;
  /** The output FIFOs of legacy promises, made on first use. */
  pipes(): OutputPipes;
  /** Status file writes overlap with the next promises; all are awaited before returning. */
  pendingWrites: Promise<void>[];
}

/** The checked partition directory, timeout and concurrency of a run (EngineUsageError if bad). */
function checkRunOptions(opts: RunOptions): { partitionDir: string; timeoutSeconds: number; concurrency: number } {
  const partitionDir = resolve(opts.partitionDir);
  if (!existsSync(partitionDir) || !statSync(partitionDir).isDirectory()) {
    throw new EngineUsageError(`partition directory not found: ${partitionDir}`);
  }
  const timeoutSeconds = opts.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (!(timeoutSeconds > 0) || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
    throw new EngineUsageError(`timeout must be > 0 and <= ${MAX_TIMEOUT_SECONDS} seconds, got ${timeoutSeconds}`);
  }
  return { partitionDir, timeoutSeconds, concurrency: Math.max(1, Math.floor(opts.concurrency ?? availableParallelism())) };
}

/** The promises `--run-only` keeps (titles per SPEC; a full file name is tolerated too). */
function selectEntries(all: PromiseEntry[], runOnly: string[] | undefined): PromiseEntry[] {
  if (!runOnly || runOnly.length === 0) return all;
  const byName = new Map(all.map((e) => [e.name, e.title]));
  const titles = runOnly.map((t) => byName.get(t) ?? t);
  const known = new Set(all.map((e) => e.title));
  const unknown = titles.filter((t) => !known.has(t));
  if (unknown.length > 0) {
    throw new EngineUsageError(`unknown promise title(s) in run-only: ${unknown.join(', ')} (known: ${[...known].join(', ') || 'none'})`);
  }
  const wanted = new Set(titles);
  return all.filter((e) => wanted.has(e.title));
}

/** The promises' log folder: the real one, or (dry run) a copy thrown away afterwards. */
function logFolderOf(dirs: ReturnType<typeof stateDirs>, dryRun: boolean | undefined): { logFolder: string; dryDir?: string } {
  if (!dryRun) {
    ensureDirs(dirs);
    return { logFolder: dirs.log };
  }
  // the promise's log is its memory: a dry run works on a copy and throws it away
  const dryDir = mkdtempSync(join(tmpdir(), 'vigil-dry-run-'));
  if (existsSync(dirs.log)) {
    for (const f of readdirSync(dirs.log)) if (f.endsWith('.log')) copyFileSync(join(dirs.log, f), join(dryDir, f));
  }
  return { logFolder: dryDir, dryDir };
}

function pluginDefaults(opts: RunOptions, partitionDir: string, timeoutSeconds: number): Record<string, unknown> {
  const defaults: Record<string, unknown> = {
    'partition-id': opts.config?.partitionId ?? basename(partitionDir),
    // like the reference: plugins keep their own waits below it (check-url-available)
    'promise-timeout': timeoutSeconds,
  };
  if (opts.config?.computerId !== undefined) defaults['computer-id'] = opts.config.computerId;
  if (opts.config?.masterUrl !== undefined) defaults['master-url'] = opts.config.masterUrl;
  return defaults;
}

async function executeLegacy(ctx: RunContext, entry: PreparedEntry, prev: SavedState | undefined): Promise<Outcome> {
  const { checkAnomaly } = ctx;
  const r = await runLegacy({
    file: entry.file,
    title: entry.title,
    partitionDir: ctx.partitionDir,
    logFolder: ctx.logFolder,
    timeoutMs: ctx.timeoutSeconds * 1000,
    checkAnomaly,
    pipes: ctx.pipes(),
  });
  if (r.pending) ctx.pendingWrites.push(r.pending);
  const cache = newCache(entry, LEGACY_PERIODICITY_MIN, true, true, true);
  if (r.timedOut) {
    const previous = prev ?? (checkAnomaly ? loadState(ctx.dirs, entry.title) : undefined);
    return { ...timeoutOutcome(r.message, r.executionTimeMs, checkAnomaly, previous?.result), cache, periodicityMinutes: LEGACY_PERIODICITY_MIN };
  }
  return { cache, failed: r.failed, message: r.message, executionTimeMs: r.executionTimeMs, save: true, type: 'Test Result', periodicityMinutes: LEGACY_PERIODICITY_MIN };
}

async function executePlugin(ctx: RunContext, entry: PreparedEntry, prev: SavedState | undefined): Promise<Outcome> {
  const { checkAnomaly } = ctx;
  const config: Record<string, unknown> = {
    ...(entry.config ?? {}),
    ...ctx.defaults,
    name: entry.name,
    path: entry.file,
    'partition-folder': ctx.partitionDir,
    'log-folder': ctx.logFolder,
  };
  const started = performance.now();
  const out = await ctx
    .pool()
    .run({ file: entry.file, stock: entry.stock, version: Math.round(entry.mtimeMs), config, checkAnomaly }, ctx.timeoutSeconds * 1000, entry.name);
  // worker start-up is not the promise's time
  const executionTimeMs = out.kind === 'reply' ? out.elapsedMs : Math.round(performance.now() - started);
  if (out.kind === 'timeout') {
    const message = `Error: Promise timed out after ${ctx.timeoutSeconds} seconds (process group killed)`;
    return timeoutOutcome(message, executionTimeMs, checkAnomaly, prev?.result);
  }
  if (out.kind === 'crash') return { failed: true, message: out.message, executionTimeMs, save: true };
  const reply = out.reply;
  if (!reply.ok) return { failed: true, message: `Error: ${reply.error}`, executionTimeMs, save: true };
  const cache = newCache(entry, reply.periodicity, reply.executed, reply.isTested, reply.isAnomalyDetected);
  if (!reply.executed || !reply.result) {
    return {
      cache,
      failed: false,
      skipped: true,
      message: `${checkAnomaly ? 'anomaly' : 'test'} disabled by the promise (${checkAnomaly ? 'setAnomalyLess' : 'setTestLess'})`,
      executionTimeMs,
      save: false,
      periodicityMinutes: reply.periodicity,
    };
  }
  return {
    cache,
    periodicityMinutes: reply.periodicity,
    failed: reply.result.failed,
    message: reply.result.message,
    executionTimeMs,
    bang: reply.bang && !ctx.opts.dryRun,
    save: true,
    type: reply.result.type,
  };
}

function execute(ctx: RunContext, entry: PreparedEntry, prev: SavedState | undefined): Promise<Outcome> {
  if (entry.problem) return Promise.resolve({ failed: true, message: entry.problem, executionTimeMs: 0, save: true });
  const skip = checkSkip(prev, entry, ctx.checkAnomaly, ctx.opts.force);
  if (skip) return Promise.resolve(skip);
  return entry.kind === 'legacy' ? executeLegacy(ctx, entry, prev) : executePlugin(ctx, entry, prev);
}

/** One atomic write per promise: the result (or the last one) with the cache (or the last one). */
function stateToSave(ctx: RunContext, entry: PreparedEntry, res: PromiseRunResult, o: Outcome, prev: SavedState | undefined): SavedState {
  const cache = o.cache ?? validCache(prev, entry.file, entry.mtimeMs);
  const state: SavedState = {
    title: entry.title,
    name: entry.name,
    path: entry.file,
    legacy: res.legacy,
    executionTimeMs: o.save ? res.executionTimeMs : typeof prev?.executionTimeMs === 'number' ? prev.executionTimeMs : 0,
  };
  const result = o.save
    ? { type: o.type ?? (ctx.checkAnomaly ? 'Anomaly Result' : 'Test Result'), failed: res.failed, date: res.date, message: res.message }
    : prev?.result;
  if (result) state.result = result;
  if (cache) state.cache = cache;
  return state;
}

/** Runs one promise; returns its result and, when it asks for one, a bang candidate. */
async function runOne(ctx: RunContext, entry: PreparedEntry): Promise<{ res: PromiseRunResult; bang?: { title: string; message: string } }> {
  const { opts } = ctx;
  // a legacy promise always caches "tested and anomaly-checked": forced, nothing to read
  const prev = entry.problem || (opts.force && entry.kind === 'legacy') ? undefined : loadState(ctx.dirs, entry.title);
  const o = await execute(ctx, entry, prev);
  const res: PromiseRunResult = {
    name: entry.name,
    title: entry.title,
    kind: opts.mode,
    failed: o.failed,
    message: capMessage(o.message),
    date: new Date().toISOString(),
    executionTimeMs: o.executionTimeMs,
    legacy: entry.kind === 'legacy',
  };
  if (o.skipped) res.skipped = true;
  if (o.periodicityMinutes !== undefined) res.periodicityMinutes = o.periodicityMinutes;
  if ((o.save || o.cache) && !opts.dryRun) ctx.pendingWrites.push(saveState(ctx.dirs, stateToSave(ctx, entry, res, o, prev)));
  const bangs = o.bang && entry.config?.['bang-on-failure'] !== false && entry.config?.['bang-on-failure'] !== 'false';
  return bangs ? { res, bang: { title: entry.title, message: res.message } } : { res };
}

/** The bang due after a run: the first failing promise (by title) that asked for one. */
function bangOf(candidates: { title: string; message: string }[]): PartitionRunResult['bang'] {
  const first = [...candidates].sort((a, b) => (a.title < b.title ? -1 : a.title > b.title ? 1 : 0))[0];
  return first ? { due: true, promise: first.title, message: capMessage(`Promise ${first.title} is failing: ${first.message}`) } : { due: false };
}

export async function runPartitionPromises(opts: RunOptions): Promise<PartitionRunResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const { partitionDir, timeoutSeconds, concurrency } = checkRunOptions(opts);
  const { entries: all, warnings } = discoverPromisesWithWarnings(partitionDir);
  const prepared = selectEntries(all, opts.runOnly).map((e) => prepareEntry(e));
  const dirs = stateDirs(partitionDir);
  const { logFolder, dryDir } = logFolderOf(dirs, opts.dryRun);
  let pool: RunnerPool | undefined;
  let pipes: OutputPipes | undefined;
  const ctx: RunContext = {
    opts,
    partitionDir,
    dirs,
    logFolder,
    timeoutSeconds,
    checkAnomaly: opts.mode === 'anomaly',
    defaults: pluginDefaults(opts, partitionDir, timeoutSeconds),
    pool: () => {
      pool ??= new RunnerPool(partitionDir);
      return pool;
    },
    pipes: () => {
      // at most one FIFO per worker
      pipes ??= new OutputPipes(Math.min(concurrency, prepared.filter((e) => e.kind === 'legacy').length));
      return pipes;
    },
    pendingWrites: [],
  };
  const results: PromiseRunResult[] = new Array(prepared.length);
  const bangCandidates: { title: string; message: string }[] = [];
  let done = 0;
  const total = prepared.length;
  try {
    let next = 0;
    const workers = Array.from({ length: Math.min(concurrency, prepared.length) }, async () => {
      while (next < prepared.length) {
        const i = next++;
        const entry = prepared[i]!;
        opts.onProgress?.({ type: 'start', name: entry.name, total });
        const r = await runOne(ctx, entry);
        results[i] = r.res;
        if (r.bang) bangCandidates.push(r.bang);
        done += 1;
        opts.onProgress?.({ type: 'done', result: r.res, done, total });
      }
    });
    await Promise.all(workers);
  } finally {
    await Promise.allSettled(ctx.pendingWrites);
    pool?.close();
    pipes?.close();
    if (pipes?.problem) warnings.push(`legacy promise output: ${pipes.problem}; stdout and stderr were read as two streams (order between them lost, \`> /dev/stderr\` fails)`);
    if (dryDir) rmSync(dryDir, { recursive: true, force: true });
  }
  if (!opts.dryRun && !(opts.runOnly && opts.runOnly.length > 0)) removeStale(dirs, new Set(all.map((e) => e.title)));
  return {
    ok: results.every((r) => !r.failed),
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    results,
    bang: bangOf(bangCandidates),
    warnings,
  };
}

const PLUGIN_FILE_KEYS = ['plugin', 'config', 'bang-on-failure'];

type PreparedEntry = PromiseEntry & { config?: Record<string, unknown>; stock?: string };

/** Reads a JSON stock plugin file: any problem becomes the promise's failure message. */
function prepareEntry(e: PromiseEntry): PreparedEntry {
  if (e.kind !== 'stock' || e.problem) return e;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(e.file, 'utf8'));
  } catch (err) {
    return { ...e, problem: `${e.file}: invalid JSON: ${(err as Error).message}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ...e, problem: `${e.file}: expected an object {"plugin": "<stock name>", "config": {...}}` };
  }
  const obj = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(obj).filter((k) => !PLUGIN_FILE_KEYS.includes(k));
  if (unknownKeys.length > 0) {
    return {
      ...e,
      problem: `${e.file}: unknown key(s) ${unknownKeys.map((k) => JSON.stringify(k)).join(', ')} (expected ${PLUGIN_FILE_KEYS.map((k) => JSON.stringify(k)).join(', ')})`,
    };
  }
  const plugin = obj['plugin'];
  if (typeof plugin !== 'string' || plugin === '') {
    return { ...e, problem: `${e.file}: missing "plugin" (one of: ${stockPluginNames.join(', ')})` };
  }
  if (!stockPluginNames.includes(plugin)) {
    return { ...e, problem: `${e.file}: unknown plugin '${plugin}' (known: ${stockPluginNames.join(', ')})` };
  }
  const config = obj['config'] ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    return { ...e, problem: `${e.file}: "config" must be an object` };
  }
  const merged: Record<string, unknown> = { ...(config as Record<string, unknown>) };
  if (obj['bang-on-failure'] !== undefined) merged['bang-on-failure'] = obj['bang-on-failure'];
  return { ...e, stock: plugin, config: merged };
}

function newCache(
  entry: PromiseEntry,
  periodicity: number,
  executed: boolean,
  isTested: boolean,
  isAnomalyDetected: boolean,
): PromiseCache {
  const now = Date.now();
  return {
    periodicity,
    nextRunAfter: executed ? now + periodicity * 60_000 : now,
    timestamp: now,
    isTested,
    isAnomalyDetected,
    file: entry.file,
    fileMtimeMs: entry.mtimeMs,
  };
}

/**
 * A promise that timed out (reference launcher): in test mode it fails; in anomaly mode it
 * fails only if its previous result failed or said "error:" (so a second timeout in a row
 * fails), and is kept as an anomaly result otherwise: one slow run is a glitch. Never a bang.
 */
function timeoutOutcome(
  message: string,
  executionTimeMs: number,
  checkAnomaly: boolean,
  previous: SavedState['result'] | undefined,
): Outcome {
  if (!checkAnomaly) return { failed: true, message, executionTimeMs, save: true };
  const failed = previous !== undefined && (previous.failed || previous.message.toLowerCase().includes('error:'));
  return { failed, message, executionTimeMs, save: true, type: 'Anomaly Result' };
}

/** Periodicity and test/anomaly-less skips, from the cache (reference semantics). */
function checkSkip(prev: SavedState | undefined, entry: PromiseEntry, checkAnomaly: boolean, force?: boolean): Outcome | undefined {
  const cache = validCache(prev, entry.file, entry.mtimeMs);
  if (!cache) return undefined;
  if ((checkAnomaly && !cache.isAnomalyDetected) || (!checkAnomaly && !cache.isTested)) {
    return {
      failed: false,
      skipped: true,
      message: `${checkAnomaly ? 'anomaly' : 'test'} disabled by the promise (${checkAnomaly ? 'setAnomalyLess' : 'setTestLess'})`,
      executionTimeMs: 0,
      save: false,
    };
  }
  if (force || Date.now() >= cache.nextRunAfter) return undefined;
  const last = prev?.result;
  const due = new Date(cache.nextRunAfter).toISOString();
  if (last?.failed) {
    // a promise not due keeps failing until it runs again and passes
    return {
      failed: true,
      skipped: true,
      message: last.message,
      executionTimeMs: 0,
      save: false,
      periodicityMinutes: cache.periodicity,
    };
  }
  return {
    failed: false,
    skipped: true,
    message: last ? last.message : `not due before ${due} (periodicity ${cache.periodicity} min)`,
    executionTimeMs: 0,
    save: false,
    periodicityMinutes: cache.periodicity,
  };
}
