// `vigil promise run --partition DIR ...`: run one partition's promises and show the results.
import { existsSync, statSync } from 'node:fs';
import {
  EngineUsageError,
  MAX_TIMEOUT_SECONDS,
  type ProgressEvent,
  type PromiseRunResult,
  runPartitionPromises,
} from '../engine/index.ts';
import { killAllGroups } from '../engine/proc.ts';
import { parseFlags } from './args.ts';

const HELP = `usage: vigil promise run --partition DIR [options]

Runs the promises of one partition (etc/plugin/*, etc/promise/*) and prints a table.

options:
  --partition DIR     the partition directory (required)
  --check-anomaly     run anomaly() instead of test() (what the agent does between instantiations)
  --force             ignore periodicity: run every promise now
  --run-only a,b      only these promise titles (file name without extension)
  --dry-run           run without writing results, cache or logs, and never bang
  --timeout S         per-promise timeout in seconds (default 20)
  --concurrency N     promises run at once (default: CPU count)
  --console           print one line per finished promise on stderr as they finish
                      (on a terminal, a progress line on stderr shows what is running)
  --json              print the run result as JSON on stdout (no table)
  --partition-id ID, --computer-id ID, --master-url URL   config given to the promises
  -h, --help          this help

exit status: 0 every promise kept, 1 a promise failed, 2 bad usage.
`;

function usageError(msg: string): number {
  process.stderr.write(`vigil promise: ${msg}\nRun 'vigil promise run --help' for usage.\n`);
  return 2;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' | ');
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function status(r: PromiseRunResult): string {
  if (r.failed) return r.skipped ? 'FAILED (last)' : 'FAILED';
  return r.skipped ? 'skipped' : 'kept';
}

export function formatTable(results: PromiseRunResult[], width: number): string {
  const head = ['NAME', 'KIND', 'STATUS', 'TIME', 'MESSAGE'];
  const rows = results.map((r) => [r.name + (r.legacy ? ' (legacy)' : ''), r.kind, status(r), fmtMs(r.executionTimeMs), oneLine(r.message)]);
  const widths = head.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const msgWidth = Math.max(20, width - widths.reduce((a, b) => a + b + 2, 0));
  const fmt = (row: string[]) => {
    const cells = row.slice(0, 4).map((c, i) => c.padEnd(widths[i]!));
    let msg = row[4]!;
    if (msg.length > msgWidth) msg = `${msg.slice(0, msgWidth - 1)}…`;
    return `${cells.join('  ')}  ${msg}`.trimEnd();
  };
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** What the progress line needs of a stream (process.stderr in the CLI, a fake in tests). */
export interface ProgressStream {
  write(chunk: string): unknown;
  columns?: number;
}

/**
 * The spinner/progress line shown on a terminal while promises run: redrawn every
 * `intervalMs` (so a long promise still shows activity) with the promises running now.
 */
export function createProgress(stream: ProgressStream, opts: { intervalMs?: number } = {}) {
  const running = new Set<string>();
  let done = 0;
  let total = 0;
  let frame = 0;
  let shown = false;
  const draw = () => {
    if (total === 0) return; // nothing started yet
    const names = [...running].join(', ');
    let line = `${SPINNER[frame++ % SPINNER.length]} running promises: ${done}/${total} done${names ? ` · ${names}` : ''}`;
    const width = Math.max(20, (stream.columns || 80) - 1); // a pty may report 0 columns
    if (line.length > width) line = `${line.slice(0, width - 1)}…`;
    stream.write(`\r\x1b[2K${line}`);
    shown = true;
  };
  const timer = setInterval(draw, opts.intervalMs ?? 100);
  timer.unref();
  return {
    event(ev: ProgressEvent): void {
      total = ev.total;
      if (ev.type === 'start') running.add(ev.name);
      else {
        running.delete(ev.result.name);
        done = ev.done;
      }
      draw();
    },
    /** Erases the line (before anything else is printed). */
    clear(): void {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
    stop(): void {
      clearInterval(timer);
      this.clear();
    },
  };
}

/** The run's result on stdout (a table or --json), its warnings with --console on stderr too. */
function printResult(
  result: Awaited<ReturnType<typeof runPartitionPromises>>,
  opts: { json: boolean; consoleLines: boolean; partition: string; dryRun: boolean },
): void {
  const { json, consoleLines, partition } = opts;
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const width = process.stdout.columns || 120;
    if (result.results.length === 0) process.stdout.write(`no promise in ${partition} (etc/plugin/, etc/promise/)\n`);
    else process.stdout.write(`${formatTable(result.results, width)}\n`);
    const failed = result.results.filter((r) => r.failed).length;
    const skipped = result.results.filter((r) => r.skipped).length;
    process.stdout.write(
      `\n${result.results.length} promise(s): ${result.results.length - failed} kept, ${failed} failed, ${skipped} skipped` +
        ` in ${fmtMs(result.durationMs)}${opts.dryRun ? ' (dry run)' : ''}\n`,
    );
    if (result.bang.due) process.stdout.write(`bang due: ${result.bang.message}\n`);
    for (const w of result.warnings ?? []) process.stdout.write(`warning: ${w}\n`);
  }
  // --console: the warnings on stderr too, with the per-promise lines
  if (consoleLines) for (const w of result.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub) {
    process.stderr.write(`vigil promise: a subcommand is needed (run)\n\n${HELP}`);
    return 2;
  }
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (sub !== 'run') return usageError(`unknown subcommand '${sub}' (expected 'run')`);
  const parsed = parseFlags(rest, {
    partition: { type: 'string' },
    console: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'run-only': { type: 'string' },
    force: { type: 'boolean' },
    'check-anomaly': { type: 'boolean' },
    timeout: { type: 'string' },
    concurrency: { type: 'string' },
    json: { type: 'boolean' },
    'partition-id': { type: 'string' },
    'computer-id': { type: 'string' },
    'master-url': { type: 'string' },
  });
  if ('error' in parsed) return usageError(parsed.error);
  const { values } = parsed;
  if (values['help']) {
    process.stdout.write(HELP);
    return 0;
  }
  const partition = values['partition'] as string | undefined;
  if (!partition) return usageError('--partition DIR is required');
  if (!existsSync(partition) || !statSync(partition).isDirectory()) {
    return usageError(`--partition: '${partition}' is not a directory`);
  }
  let timeoutSeconds: number | undefined;
  if (values['timeout'] !== undefined) {
    timeoutSeconds = Number(values['timeout']);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > MAX_TIMEOUT_SECONDS) {
      return usageError(`--timeout must be a number of seconds > 0 and <= ${MAX_TIMEOUT_SECONDS}, got '${values['timeout']}'`);
    }
  }
  let concurrency: number | undefined;
  if (values['concurrency'] !== undefined) {
    concurrency = Number(values['concurrency']);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      return usageError(`--concurrency must be an integer >= 1, got '${values['concurrency']}'`);
    }
  }
  let runOnly: string[] | undefined;
  if (values['run-only'] !== undefined) {
    runOnly = String(values['run-only'])
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (runOnly.length === 0) return usageError('--run-only needs at least one promise title');
  }
  const json = values['json'] === true;
  const consoleLines = values['console'] === true;
  // a spinner/progress line on stderr while promises run, only when stderr is a terminal
  // (stdout, the table or the --json document, is never touched by it)
  const progress = process.stderr.isTTY === true ? createProgress(process.stderr) : undefined;
  let result: Awaited<ReturnType<typeof runPartitionPromises>>;
  // Promises run detached (own process groups): Ctrl-C or a TERM must take them down too.
  const onSignal = (sig: NodeJS.Signals) => {
    progress?.stop();
    const killed = killAllGroups();
    process.stderr.write(`vigil promise run: ${sig}: stopped${killed ? `, killed ${killed} running promise process group(s)` : ''}\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    result = await runPartitionPromises({
      partitionDir: partition,
      mode: values['check-anomaly'] ? 'anomaly' : 'test',
      force: values['force'] === true,
      dryRun: values['dry-run'] === true,
      runOnly,
      timeoutSeconds,
      concurrency,
      config: {
        partitionId: values['partition-id'] as string | undefined,
        computerId: values['computer-id'] as string | undefined,
        masterUrl: values['master-url'] as string | undefined,
      },
      onProgress: (ev) => {
        if (ev.type === 'done' && consoleLines) {
          progress?.clear();
          const r = ev.result;
          process.stderr.write(`[${ev.done}/${ev.total}] ${r.name}: ${status(r)} (${fmtMs(r.executionTimeMs)}) ${oneLine(r.message)}\n`);
        }
        progress?.event(ev);
      },
    });
  } catch (err) {
    if (err instanceof EngineUsageError) return usageError(err.message);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress?.stop();
  }
  printResult(result, { json, consoleLines, partition, dryRun: values['dry-run'] === true });
  return result.ok ? 0 : 1;
}
