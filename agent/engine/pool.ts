// A pool of reusable plugin runner processes (agent/engine/runner.ts). Each runner is
// forked detached (its own process group); a job that times out gets the whole group
// SIGKILLed and the runner is replaced; a runner that dies mid-job fails that job only.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { killGroup, killTree, Tail, trackGroup } from './proc.ts';
import type { RunnerJob, RunnerReply } from './types.ts';

export type JobOutcome =
  | { kind: 'reply'; reply: RunnerReply; elapsedMs: number }
  | { kind: 'timeout'; killedAfterMs: number }
  | { kind: 'crash'; message: string };

interface RunnerCommand {
  script: string;
  execArgv: string[];
}

/** Where the runner is: dist/promise-runner.mjs next to the bundle, or the TS source (via tsx). */
export function runnerCommand(): RunnerCommand {
  const override = process.env['VIGIL_PROMISE_RUNNER'];
  if (override) return { script: override, execArgv: override.endsWith('.ts') ? tsxArgv() : [] };
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return { script: join(dirname(here), 'runner.ts'), execArgv: tsxArgv() };
  let dir = dirname(here);
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'promise-runner.mjs');
    if (existsSync(candidate)) return { script: candidate, execArgv: [] };
    dir = dirname(dir);
  }
  throw new Error(`vigil: promise-runner.mjs not found near ${here} (run npm run build)`);
}

function tsxArgv(): string[] {
  const loader = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(loader).href];
}

class Runner {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly stderr = new Tail(4000);
  exited = false;
  onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  onMessage: ((m: RunnerReply) => void) | undefined;

  constructor(cmd: RunnerCommand, cwd: string) {
    this.child = fork(cmd.script, [], {
      cwd,
      execArgv: cmd.execArgv,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    trackGroup(this.child);
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (d: string) => this.stderr.push(d));
    this.ready = new Promise((resolve, reject) => {
      const onFirst = (m: unknown) => {
        if (m && typeof m === 'object' && 'ready' in m) {
          this.child.off('message', onFirst);
          resolve();
        }
      };
      this.child.on('message', onFirst);
      this.child.once('exit', (code, signal) =>
        reject(new Error(`promise runner failed to start (exit ${code ?? signal}): ${this.stderr.text.trim()}`)),
      );
      this.child.once('error', reject);
    });
    this.ready.catch(() => {});
    this.child.on('message', (m: unknown) => {
      if (m && typeof m === 'object' && 'id' in m) this.onMessage?.(m as RunnerReply);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      this.onExit?.(code, signal);
    });
  }

  kill(): void {
    killGroup(this.child.pid);
  }

  /** On timeout: the group and whatever left it (a detached grandchild). */
  killTree(): void {
    killTree(this.child.pid);
  }
}

export class RunnerPool {
  readonly #idle: Runner[] = [];
  readonly #all = new Set<Runner>();
  readonly #cmd: RunnerCommand;
  #nextId = 1;

  constructor(private readonly cwd: string) {
    this.#cmd = runnerCommand();
  }

  #take(): Runner {
    while (this.#idle.length > 0) {
      const r = this.#idle.pop()!;
      if (!r.exited) return r;
    }
    const r = new Runner(this.#cmd, this.cwd);
    this.#all.add(r);
    return r;
  }

  #discard(r: Runner): void {
    r.kill();
    this.#all.delete(r);
  }

  /** Runs one job; timeoutMs counts from the moment the job is handed to a ready runner. */
  async run(job: Omit<RunnerJob, 'id'>, timeoutMs: number, label: string): Promise<JobOutcome> {
    const runner = this.#take();
    let startTimer: NodeJS.Timeout | undefined;
    try {
      // a runner that cannot start is bounded by the promise timeout too
      await Promise.race([
        runner.ready,
        new Promise((_, reject) => {
          startTimer = setTimeout(() => reject(new Error(`promise runner did not start within ${timeoutMs / 1000} s`)), timeoutMs);
        }),
      ]);
    } catch (err) {
      this.#discard(runner);
      return { kind: 'crash', message: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(startTimer);
    }
    const id = this.#nextId++;
    runner.stderr.reset();
    return new Promise<JobOutcome>((resolve) => {
      const started = Date.now();
      let settled = false;
      const finish = (o: JobOutcome, reusable: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        runner.onExit = undefined;
        runner.onMessage = undefined;
        if (reusable) this.#idle.push(runner);
        else this.#discard(runner);
        resolve(o);
      };
      const timer = setTimeout(() => {
        runner.killTree();
        finish({ kind: 'timeout', killedAfterMs: Date.now() - started }, false);
      }, timeoutMs);
      runner.onMessage = (m) => {
        if (m.id === id) finish({ kind: 'reply', reply: m, elapsedMs: Date.now() - started }, true);
      };
      runner.onExit = (code, signal) => {
        // give the stderr pipe a moment to drain so the crash message has the stack
        setTimeout(() => {
          const why = signal ? `killed by signal ${signal}` : `exited with code ${code}`;
          const tail = runner.stderr.text.trim();
          finish({ kind: 'crash', message: `promise process ${why} while running ${label}${tail ? `:\n${tail}` : ''}` }, false);
        }, 20);
      };
      runner.child.send({ ...job, id }, (err) => {
        if (err && !runner.exited) finish({ kind: 'crash', message: `cannot send job to runner: ${err.message}` }, false);
      });
    });
  }

  /** Kills every runner group (and whatever a plugin left behind in it). */
  close(): void {
    for (const r of this.#all) r.kill();
    this.#all.clear();
    this.#idle.length = 0;
  }
}
