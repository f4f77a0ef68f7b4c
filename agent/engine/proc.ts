// Process-group helpers: every promise process is the leader of its own group.

/** SIGKILLs a whole process group; ignores a group that is already gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Keeps the last `max` characters of a stream's text. */
export class Tail {
  #text = '';
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > this.max * 2) this.#text = this.#text.slice(-this.max);
  }
  get text(): string {
    return this.#text.length > this.max ? `...${this.#text.slice(-this.max)}` : this.#text;
  }
  reset(): void {
    this.#text = '';
  }
}
