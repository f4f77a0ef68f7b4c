// Runs a partition's `etc/instantiate` in its own process group with a timeout (the whole
// group is killed when it expires), the vigil environment, and its output in
// <partition>/.vigil/instantiate.log (the previous run's log kept as instantiate.log.1).
import { spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { killGroup, trackGroup } from './engine/proc.ts';

export interface InstantiateOptions {
  partitionDir: string;
  partitionId: string;
  computerId: string;
  masterUrl: string;
  timeoutMs: number;
  /** delay between SIGTERM and SIGKILL of the group (default 2 s) */
  killGraceMs?: number;
}

export interface InstantiateResult {
  ok: boolean;
  /** false when the partition has no etc/instantiate */
  ran: boolean;
  durationMs: number;
  exitCode?: number | null;
  signal?: string | null;
  timedOut: boolean;
  error?: string;
  logFile: string;
}

function tail(file: string, max = 2000): string {
  try {
    const t = readFileSync(file, 'utf8');
    return t.length > max ? `…${t.slice(-max)}` : t;
  } catch {
    return '';
  }
}

export async function runInstantiate(opts: InstantiateOptions): Promise<InstantiateResult> {
  const script = join(opts.partitionDir, 'etc', 'instantiate');
  const vigilDir = join(opts.partitionDir, '.vigil');
  const logFile = join(vigilDir, 'instantiate.log');
  const started = Date.now();
  if (!existsSync(script)) return { ok: true, ran: false, durationMs: 0, timedOut: false, logFile };
  try {
    if (!statSync(script).isFile()) throw new Error('not a file');
    accessSync(script, constants.X_OK);
  } catch {
    return {
      ok: false,
      ran: false,
      durationMs: 0,
      timedOut: false,
      error: `etc/instantiate is not an executable file (chmod +x ${script})`,
      logFile,
    };
  }
  mkdirSync(vigilDir, { recursive: true });
  if (existsSync(logFile)) {
    try {
      renameSync(logFile, `${logFile}.1`);
    } catch {
      // keep going: the new log overwrites
    }
  }
  const fd = openSync(logFile, 'w', 0o640);
  writeSync(fd, `# vigil: etc/instantiate started at ${new Date(started).toISOString()}\n`);
  const env = {
    ...process.env,
    VIGIL_PARTITION_ID: opts.partitionId,
    VIGIL_COMPUTER_ID: opts.computerId,
    VIGIL_PARTITION_PATH: opts.partitionDir,
    VIGIL_MASTER_URL: opts.masterUrl,
  };
  const result = await new Promise<InstantiateResult>((resolveRun) => {
    let timedOut = false;
    let settled = false;
    const child = spawn(script, [], { cwd: opts.partitionDir, env, detached: true, stdio: ['ignore', fd, fd] });
    trackGroup(child);
    const finish = (r: Omit<InstantiateResult, 'durationMs' | 'logFile' | 'ran'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      resolveRun({ ...r, ran: true, durationMs: Date.now() - started, logFile });
    };
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) {
        killGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => {
          if (child.pid) killGroup(child.pid, 'SIGKILL');
        }, opts.killGraceMs ?? 2000);
        killTimer.unref();
      }
    }, opts.timeoutMs);
    child.on('error', (err) => finish({ ok: false, timedOut: false, error: `etc/instantiate could not start: ${err.message}` }));
    child.on('exit', (code, signal) => {
      if (timedOut) {
        // make sure nothing of the group survives
        if (child.pid) killGroup(child.pid, 'SIGKILL');
        finish({
          ok: false,
          exitCode: code,
          signal,
          timedOut: true,
          error: `etc/instantiate timed out after ${Math.round(opts.timeoutMs / 100) / 10} s and was killed`,
        });
      } else if (code === 0) {
        finish({ ok: true, exitCode: 0, signal: null, timedOut: false });
      } else {
        finish({
          ok: false,
          exitCode: code,
          signal,
          timedOut: false,
          error: `etc/instantiate ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`,
        });
      }
    });
  });
  try {
    writeSync(
      fd,
      `\n# vigil: ${result.ok ? 'ok' : (result.error ?? 'failed')} after ${result.durationMs} ms\n`,
    );
  } finally {
    closeSync(fd);
  }
  if (!result.ok && result.error) {
    // the script's own output (not vigil's marker lines): its last line says why, in one line
    const out = tail(logFile, 1500)
      .split('\n')
      .filter((l) => !l.startsWith('# vigil: '))
      .join('\n')
      .trim();
    const last = out.split('\n').at(-1)?.trim();
    if (last) result.error = `${result.error}: ${last.length > 300 ? `${last.slice(0, 299)}…` : last}`;
    if (out.includes('\n')) result.error += `\nend of .vigil/instantiate.log:\n${out}`;
  }
  return result;
}

export interface StartServicesResult {
  ok: boolean;
  /** false when the partition has no etc/service or etc/run entries */
  ran: boolean;
  error?: string;
  output?: string;
}

/** Names of a partition's supervised services (etc/service/*, etc/run/*). */
export function partitionServices(partitionDir: string): string[] {
  const out: string[] = [];
  for (const sub of ['service', 'run']) {
    try {
      for (const e of readdirSync(join(partitionDir, 'etc', sub), { withFileTypes: true })) {
        if (!e.name.startsWith('.') && (e.isFile() || e.isSymbolicLink())) out.push(`${sub}/${e.name}`);
      }
    } catch {
      // no such directory
    }
  }
  return out;
}

/**
 * Start the partition's supervisord programs (group = partition id, as written by
 * `vigil supervisord-config`) after a successful etc/instantiate, like slapgrid starting a
 * partition's process group after processing it: a watched service that exited (and banged)
 * runs again after the re-instantiation. Already running programs are left alone.
 */
export async function startServices(opts: {
  partitionDir: string;
  partitionId: string;
  supervisordConfig: string;
  supervisorctl?: string;
  timeoutMs?: number;
}): Promise<StartServicesResult> {
  if (partitionServices(opts.partitionDir).length === 0) return { ok: true, ran: false };
  const bin = opts.supervisorctl ?? 'supervisorctl';
  const args = ['-c', opts.supervisordConfig, 'start', `${opts.partitionId}:*`];
  const what = `${bin} ${args.join(' ')}`;
  return new Promise((resolveRun) => {
    let output = '';
    let settled = false;
    const done = (r: StartServicesResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolveRun(r);
    };
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ ok: false, ran: true, error: `${what}: no answer within ${(opts.timeoutMs ?? 30_000) / 1000} s`, output });
    }, opts.timeoutMs ?? 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.on('error', (err) => {
      const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? " (install the Debian package 'supervisor')" : '';
      done({ ok: false, ran: true, error: `${what}: ${err.message}${hint}` });
    });
    child.on('close', (code) => {
      const out = output.trim();
      // older supervisorctl versions exit 0 even for errors: read its output too
      const lines = out.split('\n').filter((l) => l.trim() !== '');
      const errors = lines.filter((l) => /ERROR|refused|no such|error:/i.test(l) && !/already started/i.test(l));
      const onlyAlreadyStarted = lines.length > 0 && lines.every((l) => /already started/i.test(l));
      if (errors.length === 0 && (code === 0 || onlyAlreadyStarted)) {
        return done({ ok: true, ran: true, output: out });
      }
      const hint = /no such group|no such process/i.test(out)
        ? ` (regenerate the configuration with 'vigil supervisord-config' and run 'supervisorctl -c ${opts.supervisordConfig} update')`
        : '';
      done({ ok: false, ran: true, error: `${what} failed (exit ${code}): ${out.slice(-1500) || 'no output'}${hint}`, output: out });
    });
  });
}
