// Process-group helpers: every promise process is the leader of its own group.
import { readdirSync, readFileSync } from 'node:fs';

/** SIGKILLs a whole process group; ignores a group that is already gone. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Process groups this process started and that may still run (promises, runners,
 * etc/instantiate). A CLI that is told to exit now kills them all with `killAllGroups()`:
 * being detached, they get no terminal signal and would outlive it.
 */
const liveGroups = new Set<number>();

/** Tracks `pid`'s group until its leader exits. */
export function trackGroup(child: { pid?: number | undefined; once(event: 'exit', fn: () => void): unknown }): void {
  const pid = child.pid;
  if (!pid) return;
  liveGroups.add(pid);
  child.once('exit', () => liveGroups.delete(pid));
}

/** SIGKILLs every tracked process group (synchronous: safe in an exit path). */
export function killAllGroups(): number {
  let n = 0;
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
      n++;
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
  return n;
}

/** The live descendants of a process, from /proc (Linux; none elsewhere). */
export function descendants(pid: number): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ...": comm may contain spaces and parentheses
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid);
    if (list) list.push(Number(name));
    else children.set(ppid, [Number(name)]);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/**
 * SIGKILLs a promise's process group and every descendant that left it (setsid, detached
 * spawn): the reference kills the whole process tree on timeout too.
 */
export function killTree(pid: number | undefined): void {
  if (!pid) return;
  const tree = descendants(pid);
  killGroup(pid);
  for (const d of tree) {
    try {
      process.kill(d, 'SIGKILL');
    } catch {
      // already gone
    }
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
