// Engine state under <partition>/.vigil/promise/: logs, and per promise one status file
// (last result + periodicity cache, written atomically).
import { mkdirSync, readdirSync, rename, rmSync, writeFile } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile } from '../fsutil.ts';

export interface StateDirs {
  root: string;
  log: string;
  result: string;
}

export function stateDirs(partitionDir: string): StateDirs {
  const root = join(partitionDir, '.vigil', 'promise');
  return { root, log: join(root, 'log'), result: join(root, 'result') };
}

export function ensureDirs(d: StateDirs): void {
  for (const p of [d.log, d.result]) mkdirSync(p, { recursive: true });
}

/**
 * Writes JSON through a temp file + rename: readers never see a torn file. Unlike
 * fsutil.writeFileAtomic (spool, agent state) no fsync, on purpose: this is the hot path of every
 * promise run and a state lost in a crash only makes the promise run again. Async (the
 * launcher overlaps these writes with running promises); callback fs, not fs/promises: its
 * FileHandle machinery costs the main thread several times more per write.
 */
let tmpSeq = 0;

export function writeJsonAtomicAsync(file: string, value: unknown): Promise<void> {
  // unique per write: two writes of one file may overlap (two promises with one title)
  const tmp = `${file}.${process.pid}.${++tmpSeq}.tmp`;
  return new Promise((resolve, reject) => {
    writeFile(tmp, `${JSON.stringify(value, null, 1)}\n`, (err) => {
      if (err) return reject(err);
      rename(tmp, file, (err2) => (err2 ? reject(err2) : resolve()));
    });
  });
}

/** The periodicity cache: `cache` in the status file (`cache/<title>.json` in earlier versions). */
export interface PromiseCache {
  periodicity: number;
  /** epoch ms */
  nextRunAfter: number;
  /** epoch ms of the last run */
  timestamp: number;
  isTested: boolean;
  isAnomalyDetected: boolean;
  /** the promise file and its mtime: the cache is void when the file changes. */
  file: string;
  fileMtimeMs: number;
}

/**
 * `.vigil/promise/result/<title>.status.json`: the promise's last result and its periodicity
 * cache, in ONE file written atomically (one file creation + rename per promise run: on ext4
 * those metadata operations are most of the engine's own cost per promise).
 */
export interface SavedState {
  title: string;
  name: string;
  path: string;
  legacy: boolean;
  executionTimeMs: number;
  /** absent until the promise gives a result (e.g. its test is disabled: setTestLess). */
  result?: { type: string; failed: boolean; date: string; message: string };
  /** when the promise is due again, and what it disabled; absent: run it. */
  cache?: PromiseCache;
}

export function resultFile(d: StateDirs, title: string): string {
  return join(d.result, `${title}.status.json`);
}

/** The saved state; a missing, torn or foreign file is no state (the promise just runs). */
export function loadState(d: StateDirs, title: string): SavedState | undefined {
  const s = readJsonFile(resultFile(d, title)) as SavedState | null | undefined;
  if (!s || typeof s !== 'object') return undefined;
  const r = s.result;
  if (r !== undefined && (!r || typeof r !== 'object' || typeof r.failed !== 'boolean' || typeof r.message !== 'string')) {
    s.result = undefined;
  }
  if (s.cache !== undefined && (!s.cache || typeof s.cache !== 'object' || typeof s.cache.nextRunAfter !== 'number')) {
    s.cache = undefined;
  }
  return s;
}

/** The cache, unless the promise file changed since (path or mtime). */
export function validCache(s: SavedState | undefined, file: string, fileMtimeMs: number): PromiseCache | undefined {
  const c = s?.cache;
  if (!c || c.file !== file || c.fileMtimeMs !== fileMtimeMs) return undefined;
  return c;
}

export function saveState(d: StateDirs, s: SavedState): Promise<void> {
  return writeJsonAtomicAsync(resultFile(d, s.title), s);
}

/** Removes the state of promises that no longer exist (and the cache dir of earlier versions). */
export function removeStale(d: StateDirs, titles: Set<string>): void {
  const sweep = (dir: string, suffix: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (!n.endsWith(suffix)) continue;
      if (!titles.has(n.slice(0, -suffix.length))) rmSync(join(dir, n), { force: true });
    }
  };
  sweep(d.result, '.status.json');
  rmSync(join(d.root, 'cache'), { recursive: true, force: true });
}
