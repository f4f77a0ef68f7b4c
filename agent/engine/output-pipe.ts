// Kernel pipes (FIFOs) to give a legacy promise as both its stdout and its stderr, as the
// reference's subprocess does (`stdout=PIPE, stderr=STDOUT`): one stream in the order written
// (`o1 e2 o3 e4`), and a real pipe, so `echo x > /dev/stderr` or `exec 2>/dev/stdout` works
// (reopening /proc/self/fd/N of a socket, which Node's 'pipe' stdio is, fails with ENXIO).
//
// Node cannot create a pipe: the FIFOs of a run are made by ONE `mkfifo` call, in a private
// temp dir (0700), and reused promise after promise (a FIFO is a pipe again each time it is
// opened). Per promise: the read end is opened O_RDONLY|O_NONBLOCK first (so opening the write
// end cannot block), then the write end O_WRONLY, handed to the child as fds 1 and 2 and
// closed here; the read end is read as a net.Socket and ends when every writer has closed.
// A FIFO whose stream did not end (a daemon still holds the write end) is deleted, never
// reused: the daemon would write into, and hold open, the next promise's stream.
import { execFile } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One opened FIFO: give `writeFd` to the child (then close it), read `reader`. */
export interface OpenPipe {
  reader: Socket;
  writeFd: number;
  /** Closes the read end; the FIFO goes back to the pool only if its stream ended (no writer left). */
  release(): void;
}

/** Temp dirs of live pools, removed if the process exits before the run closes its pool. */
const liveDirs = new Set<string>();
let exitHook = false;

function removeLiveDirs(): void {
  for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  liveDirs.clear();
}

function mkfifo(paths: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('mkfifo', ['-m', '600', ...paths], (err, _stdout, stderr) =>
      err ? reject(new Error(stderr.trim() || err.message)) : resolve(),
    );
  });
}

/** The FIFOs of one run, `size` at most in use at once (the run's concurrency). */
export class OutputPipes {
  readonly #size: number;
  #dir: string | undefined;
  #free: string[] = [];
  #made = 0;
  #making: Promise<void> | undefined;
  #problem: string | undefined;
  #closed = false;

  constructor(size: number) {
    this.#size = Math.max(1, Math.floor(size));
  }

  /** Why no FIFO could be made or opened (the caller falls back to two streams), if so. */
  get problem(): string | undefined {
    return this.#problem;
  }

  /** A FIFO opened for one child; undefined when none can be had (see `problem`). */
  async open(): Promise<OpenPipe | undefined> {
    while (this.#free.length === 0) {
      if (this.#problem !== undefined || this.#closed) return undefined;
      // the whole pool at first; one more for each FIFO thrown away since
      this.#making ??= this.#make(this.#dir === undefined ? this.#size : 1).finally(() => {
        this.#making = undefined;
      });
      await this.#making;
    }
    const path = this.#free.pop()!;
    let readFd: number | undefined;
    try {
      readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      // a reader is open: this open does not wait, and the child's end is blocking
      const writeFd = openSync(path, constants.O_WRONLY);
      const reader = new Socket({ fd: readFd, readable: true, writable: false });
      let ended = false;
      reader.once('end', () => {
        ended = true;
      });
      return {
        reader,
        writeFd,
        release: () => {
          reader.destroy();
          if (ended && !this.#closed) this.#free.push(path);
          else rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if (readFd !== undefined) closeSync(readFd);
      rmSync(path, { force: true });
      this.#problem = `cannot open the output pipe ${path}: ${(err as Error).message}`;
      return undefined;
    }
  }

  async #make(n: number): Promise<void> {
    try {
      if (this.#dir === undefined) {
        this.#dir = mkdtempSync(join(tmpdir(), 'vigil-fifo-')); // mode 0700
        liveDirs.add(this.#dir);
        if (!exitHook) {
          exitHook = true;
          process.once('exit', removeLiveDirs);
        }
      }
      const dir = this.#dir;
      const paths = Array.from({ length: n }, () => join(dir, String(this.#made++)));
      await mkfifo(paths);
      if (!this.#closed) this.#free.push(...paths);
    } catch (err) {
      this.#problem = `cannot make the output pipes (mkfifo in ${tmpdir()}): ${(err as Error).message}`;
    }
  }

  /** Removes the FIFOs and their dir (a daemon holding one keeps only its own open file). */
  close(): void {
    this.#closed = true;
    this.#free = [];
    if (this.#dir === undefined) return;
    rmSync(this.#dir, { recursive: true, force: true });
    liveDirs.delete(this.#dir);
  }
}
