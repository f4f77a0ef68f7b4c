// Engine state under <partition>/.vigil/promise/: logs, results (atomic), periodicity cache.
import { mkdirSync, readdirSync, readFileSync, rename, renameSync, rmSync, writeFile, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StateDirs {
  root: string;
  log: string;
  result: string;
  cache: string;
}

export function stateDirs(partitionDir: string): StateDirs {
  const root = join(partitionDir, '.vigil', 'promise');
  return { root, log: join(root, 'log'), result: join(root, 'result'), cache: join(root, 'cache') };
}

export function ensureDirs(d: StateDirs): void {
  for (const p of [d.log, d.result, d.cache]) mkdirSync(p, { recursive: true });
}

/** Writes JSON through a temp file + rename: readers never see a torn file. */
export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 1)}\n`);
  renameSync(tmp, file);
}

/**
 * Async variant (the launcher overlaps these writes with running promises). Callback fs, not
 * fs/promises: its FileHandle machinery costs the main thread several times more per write.
 */
export function writeJsonAtomicAsync(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  return new Promise((resolve, reject) => {
    writeFile(tmp, `${JSON.stringify(value, null, 1)}\n`, (err) => {
      if (err) return reject(err);
      rename(tmp, file, (err2) => (err2 ? reject(err2) : resolve()));
    });
  });
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** `.vigil/promise/result/<title>.status.json` */
export interface SavedResult {
  title: string;
  name: string;
  path: string;
  legacy: boolean;
  executionTimeMs: number;
  result: { type: string; failed: boolean; date: string; message: string };
}

export function resultFile(d: StateDirs, title: string): string {
  return join(d.result, `${title}.status.json`);
}

export function loadResult(d: StateDirs, title: string): SavedResult | undefined {
  const r = readJson<SavedResult>(resultFile(d, title));
  if (!r || typeof r !== 'object' || !r.result || typeof r.result.failed !== 'boolean') return undefined;
  return r;
}

export function saveResult(d: StateDirs, r: SavedResult): Promise<void> {
  return writeJsonAtomicAsync(resultFile(d, r.title), r);
}

/** `.vigil/promise/cache/<title>.json`: when the promise is due again, and what it disabled. */
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

export function cacheFile(d: StateDirs, title: string): string {
  return join(d.cache, `${title}.json`);
}

export function loadCache(d: StateDirs, title: string, file: string, fileMtimeMs: number): PromiseCache | undefined {
  const c = readJson<PromiseCache>(cacheFile(d, title));
  if (!c || typeof c !== 'object' || typeof c.nextRunAfter !== 'number') return undefined;
  if (c.file !== file || c.fileMtimeMs !== fileMtimeMs) return undefined;
  return c;
}

export function saveCache(d: StateDirs, title: string, c: PromiseCache): Promise<void> {
  return writeJsonAtomicAsync(cacheFile(d, title), c);
}

/** Removes results and caches of promises that no longer exist. */
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
  sweep(d.cache, '.json');
}
