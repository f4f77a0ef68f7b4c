// Legacy promises: executables in etc/promise/, spawned directly (own process group),
// stdout and stderr on one stream into the message (the order written), exit 0 = kept. Logged in the promise's own log
// like a plugin (test: the last run, anomaly: the last 3 runs), and never bang.
import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs';
import { join } from 'node:path';
import { appendLogLine, checkRuns, readLastRuns, trimLog } from '../promise/log.ts';
import { outputPair } from './output-pair.ts';
import { killGroup, killTree, Tail, trackGroup } from './proc.ts';

export interface LegacyOutcome {
  failed: boolean;
  message: string;
  timedOut: boolean;
  executionTimeMs: number;
  /** the log write still in flight (test mode), to await before the run ends. */
  pending?: Promise<void>;
}

/** How long the output of an exited legacy promise is still read (pipes held by a daemon). */
const LEGACY_DRAIN_MS = 500;

export interface SpawnOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
  error?: string;
}

/**
 * Runs the executable with stdout and stderr on one stream (the order written is kept, like
 * the reference's stderr=STDOUT), kills its whole group on timeout and, after it exits,
 * whatever it left behind.
 */
export async function spawnLegacy(file: string, cwd: string, timeoutMs: number): Promise<SpawnOutcome> {
  let pair: Awaited<ReturnType<typeof outputPair>> | undefined;
  try {
    pair = await outputPair();
  } catch {
    pair = undefined; // no unix socket here: two pipes (order between them is lost)
  }
  return new Promise((resolve) => {
    const out = new Tail(20_000);
    let timedOut = false;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, [], {
        cwd,
        detached: true,
        stdio: pair ? ['ignore', pair.writer, pair.writer] : ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      pair?.writer.destroy();
      pair?.reader.destroy();
      resolve({ code: null, signal: null, output: '', timedOut: false, error: (err as Error).message });
      return;
    } finally {
      // the child has its own copies: ours must go, or the stream never ends
      pair?.writer.destroy();
    }
    trackGroup(child);
    const streams = pair ? [pair.reader] : [child.stdout, child.stderr].filter((x): x is NonNullable<typeof x> => x !== null);
    const onData = (d: Buffer) => out.push(d.toString('utf8'));
    let open = streams.length;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: string | undefined;
    let drain: NodeJS.Timeout | undefined;
    const finish = () => {
      if (!exit || open > 0) return;
      clearTimeout(timer);
      clearTimeout(drain);
      resolve({ ...exit, output: out.text, timedOut, ...(spawnError ? { error: spawnError } : {}) });
    };
    for (const s of streams) {
      s.on('data', onData);
      s.on('error', () => s.destroy());
      s.once('close', () => {
        open -= 1;
        finish();
      });
      s.resume();
    }
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child.pid);
    }, timeoutMs);
    child.on('error', (err) => {
      spawnError = err.message;
      if (child.pid === undefined) {
        // never started: no exit will come
        for (const s of streams) s.destroy();
        exit = { code: null, signal: null };
        finish();
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // no process left behind: a daemon forked by the promise would also hold our stream open
      killGroup(child.pid);
      // a daemon that left the group (setsid) and kept our stdout would hold the stream open
      // forever: stop reading after a grace period (its output so far is kept)
      drain = setTimeout(() => {
        for (const s of streams) s.destroy();
      }, LEGACY_DRAIN_MS);
      exit = { code, signal };
      finish();
    });
  });
}

export async function runLegacy(opts: {
  file: string;
  title: string;
  partitionDir: string;
  logFolder: string;
  timeoutMs: number;
  checkAnomaly: boolean;
  now?: () => Date;
}): Promise<LegacyOutcome> {
  const now = opts.now ?? (() => new Date());
  const started = performance.now();
  const r = await spawnLegacy(opts.file, opts.partitionDir, opts.timeoutMs);
  const executionTimeMs = Math.round(performance.now() - started);
  const timeoutS = opts.timeoutMs / 1000;
  if (r.timedOut) {
    return {
      failed: true,
      timedOut: true,
      executionTimeMs,
      message: `Error: Promise timed out after ${timeoutS} seconds (process group killed)${r.output.trim() ? `\n${r.output.trim()}` : ''}`,
    };
  }
  let message = r.output.trim();
  const failed = r.code !== 0;
  if (r.error) message = `cannot run ${opts.file}: ${r.error}`;
  else if (failed && message === '') {
    message = r.signal ? `killed by signal ${r.signal}` : `exited with code ${r.code}`;
  }
  const logFile = join(opts.logFolder, `${opts.title}.log`);
  const run = `${Math.floor(now().getTime() / 1000)}-${Math.floor(100 + Math.random() * 900)}-legacy`;
  const line = { date: now().toISOString(), level: failed ? ('ERROR' as const) : ('INFO' as const), run, message };
  // bounded like a plugin's log (a stat: the trim itself is rare)
  trimLog(logFile);
  if (!opts.checkAnomaly) {
    // test mode: this run alone decides, the log write can finish while the next promise runs
    const pending = new Promise<void>((resolve, reject) =>
      appendFile(logFile, `${JSON.stringify(line)}\n`, (err) => (err ? reject(err) : resolve())),
    );
    return { failed, message, timedOut: false, executionTimeMs, pending };
  }
  appendLogLine(logFile, line);
  const res = checkRuns(readLastRuns(logFile, { resultCount: 3 }, now()), 3);
  return { failed: res.failed, message: res.message, timedOut: false, executionTimeMs };
}
