// The promise's own append-only log: one JSON line per entry {date, level, run, message}.
// Read newest first and grouped by run (one run = one execution of the promise).
import { appendFileSync, closeSync, fstatSync, openSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';

export type LogLevel = 'INFO' | 'ERROR' | 'WARNING' | 'DEBUG';

export interface LogLine {
  date: string;
  level: LogLevel;
  run: string;
  message: string;
}

/** One entry as returned by getLastPromiseResultList. */
export interface PromiseLogEntry {
  date: Date;
  status: LogLevel;
  message: string;
}

export interface LastResultOptions {
  /** only runs newer than this many minutes (0 = no limit). */
  latestMinute?: number;
  /** maximum number of runs returned (default 1). */
  resultCount?: number;
  /** keep only ERROR entries (runs without any are left out). */
  onlyFailure?: boolean;
}

/** Log files are trimmed to their last LOG_KEEP_BYTES when they exceed LOG_MAX_BYTES. */
export const LOG_MAX_BYTES = 2 * 1024 * 1024;
export const LOG_KEEP_BYTES = 1024 * 1024;

export function appendLogLine(file: string, line: LogLine): void {
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/** Trims a log that grew over maxBytes, keeping whole lines of its last keepBytes (atomic). */
export function trimLog(file: string, maxBytes = LOG_MAX_BYTES, keepBytes = LOG_KEEP_BYTES): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(keepBytes);
    const n = readSync(fd, buf, 0, keepBytes, size - keepBytes);
    const firstNewline = buf.indexOf(0x0a);
    const kept = firstNewline >= 0 ? buf.subarray(firstNewline + 1, n) : buf.subarray(0, n);
    const tmp = `${file}.trim.tmp`;
    writeFileSync(tmp, kept);
    renameSync(tmp, file);
    return true;
  } finally {
    closeSync(fd);
  }
}

/** Yields the lines of a file from the last to the first, reading backwards in chunks. */
export function* readLinesBackward(file: string, chunkSize = 64 * 1024): Generator<string> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    let pos = fstatSync(fd).size;
    let rest: Buffer = Buffer.alloc(0);
    const buf = Buffer.alloc(chunkSize);
    while (pos > 0) {
      const n = Math.min(chunkSize, pos);
      pos -= n;
      readSync(fd, buf, 0, n, pos);
      let data = Buffer.concat([buf.subarray(0, n), rest]);
      let idx = data.lastIndexOf(0x0a);
      while (idx >= 0) {
        const line = data.subarray(idx + 1);
        if (line.length > 0) yield line.toString('utf8');
        data = data.subarray(0, idx);
        idx = data.lastIndexOf(0x0a);
      }
      rest = Buffer.from(data);
    }
    if (rest.length > 0) yield rest.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function parseLine(text: string): LogLine | undefined {
  try {
    const v = JSON.parse(text) as Partial<LogLine>;
    if (typeof v.date !== 'string' || typeof v.level !== 'string' || typeof v.run !== 'string') return undefined;
    return { date: v.date, level: v.level as LogLevel, run: v.run, message: String(v.message ?? '') };
  } catch {
    return undefined; // a torn or foreign line is ignored
  }
}

/**
 * The last runs of a promise log, newest run first; inside a run, entries in write order.
 * Semantics of the reference (getLastPromiseResultList): `resultCount` runs at most, none
 * older than `latestMinute` minutes, `onlyFailure` keeps ERROR entries only.
 */
export function readLastRuns(file: string, opts: LastResultOptions = {}, now: Date = new Date()): PromiseLogEntry[][] {
  return groupRuns(readLinesBackward(file), opts, now);
}

/** Groups log lines given newest first into runs (see readLastRuns). */
export function groupRuns(linesNewestFirst: Iterable<string>, opts: LastResultOptions = {}, now: Date = new Date()): PromiseLogEntry[][] {
  const resultCount = opts.resultCount ?? 1;
  const latestMinute = opts.latestMinute ?? 0;
  const minTime = latestMinute > 0 ? now.getTime() - latestMinute * 60_000 : Number.NEGATIVE_INFINITY;
  const runs: PromiseLogEntry[][] = [];
  let current: PromiseLogEntry[] = [];
  let currentRun: string | undefined;
  let runCount = 0;
  const flush = () => {
    if (currentRun !== undefined && (!opts.onlyFailure || current.length > 0)) runs.push(current);
    current = [];
  };
  if (resultCount <= 0) return runs;
  for (const text of linesNewestFirst) {
    const line = parseLine(text);
    if (!line) continue;
    const date = new Date(line.date);
    if (date.getTime() <= minTime) break;
    if (line.run !== currentRun) {
      flush();
      runCount += 1;
      if (runCount > resultCount) {
        currentRun = undefined;
        break;
      }
      currentRun = line.run;
    }
    if (!opts.onlyFailure || line.level === 'ERROR') {
      current.unshift({ date, status: line.level, message: line.message });
    }
  }
  flush();
  return runs;
}

/** Whether a run failed (any ERROR entry) and its joined message. */
export function readRun(run: PromiseLogEntry[]): { failed: boolean; message: string } {
  let failed = false;
  const parts: string[] = [];
  for (const entry of run) {
    if (entry.status === 'ERROR') failed = true;
    parts.push(entry.message);
  }
  return { failed, message: parts.join('\n').trim() };
}

export interface CheckOptions {
  resultCount?: number;
  failureAmount?: number;
  latestMinute?: number;
}

/**
 * The rule of _test/_anomaly: fails when the latest run failed and `failureAmount` of the
 * last `resultCount` runs failed; passes with "No result found!" when there is no run.
 */
export function checkRuns(runs: PromiseLogEntry[][], failureAmount: number): { failed: boolean; message: string } {
  const latest = runs[0];
  if (!latest) return { failed: false, message: 'No result found!' };
  const { failed, message } = readRun(latest);
  if (!failed) return { failed: false, message };
  let failures = 1;
  for (let i = 1; i < runs.length && failures < failureAmount; i++) {
    if (runs[i]!.some((e) => e.status === 'ERROR')) failures += 1;
  }
  return { failed: failures >= failureAmount, message };
}
