// Legacy promises: executables in etc/promise/, spawned directly (own process group),
// stdout and stderr on one kernel pipe into the message (the order written), exit 0 = kept. Logged in the promise's own log
// like a plugin (test: the last run, anomaly: the last 3 runs), and never bang.
import { spawn } from 'node:child_process';
import { appendFile, closeSync } from 'node:fs';
import { join } from 'node:path';
import { appendLogLine, checkRuns, readLastRuns, trimLog } from '../promise/log.ts';
import { OutputPipes } from './output-pipe.ts';
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
 * Runs the executable with stdout and stderr on one kernel pipe (the order written is kept,
 * like the reference's stderr=STDOUT, and `> /dev/stderr` works), kills its whole group on
 * timeout and, after it exits, whatever it left behind. Without `pipes`, a pool of one is made
 * for this promise. When no FIFO can be had, stdout and stderr are two streams (Node's 'pipe').
 */
export async function spawnLegacy(file: string, cwd: string, timeoutMs: number, pipes?: OutputPipes): Promise<SpawnOutcome> {
  const own = pipes ? undefined : new OutputPipes(1);
  try {
    return await spawnOn((pipes ?? own)!, file, cwd, timeoutMs);
  } finally {
    own?.close();
  }
}

async function spawnOn(pipes: OutputPipes, file: string, cwd: string, timeoutMs: number): Promise<SpawnOutcome> {
  const fifo = await pipes.open();
  return new Promise((resolve) => {
    const out = new Tail(20_000);
    let timedOut = false;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, [], {
        cwd,
        detached: true,
        stdio: fifo ? ['ignore', fifo.writeFd, fifo.writeFd] : ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      fifo?.release();
      resolve({ code: null, signal: null, output: '', timedOut: false, error: (err as Error).message });
      return;
    } finally {
      // the child has its own copies: ours must go, or the stream never ends
      if (fifo) closeSync(fifo.writeFd);
    }
    trackGroup(child);
    const streams = fifo ? [fifo.reader] : [child.stdout, child.stderr].filter((x): x is NonNullable<typeof x> => x !== null);
    let open = streams.length;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: string | undefined;
    let drain: NodeJS.Timeout | undefined;
    const finish = () => {
      if (!exit || open > 0) return;
      clearTimeout(timer);
      clearTimeout(drain);
      fifo?.release();
      resolve({ ...exit, output: out.text, timedOut, ...(spawnError ? { error: spawnError } : {}) });
    };
    for (const s of streams) {
      s.setEncoding('utf8');
      s.on('data', (d: string) => out.push(d));
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
      // forever: stop reading after a grace period (its output so far is kept; its FIFO is
      // not reused)
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
  /** the run's output FIFOs (none: a pool of one for this promise). */
  pipes?: OutputPipes;
  now?: () => Date;
}): Promise<LegacyOutcome> {
  const now = opts.now ?? (() => new Date());
  const started = performance.now();
  const r = await spawnLegacy(opts.file, opts.partitionDir, opts.timeoutMs, opts.pipes);
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
