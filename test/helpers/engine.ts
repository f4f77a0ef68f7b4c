// Test factories of the promise engine (engine helper): temp partitions, plugins, clocks.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PromiseConfig } from '../../agent/promise/index.ts';

const made: string[] = [];

export function tempDir(prefix = 'vigil-engine-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function tempPartition(): string {
  const d = tempDir('vigil-part-');
  mkdirSync(join(d, 'etc', 'plugin'), { recursive: true });
  mkdirSync(join(d, 'etc', 'promise'), { recursive: true });
  return d;
}

export function writePlugin(partition: string, name: string, source: string): string {
  const f = join(partition, 'etc', 'plugin', name);
  writeFileSync(f, source);
  return f;
}

export function writeStock(partition: string, name: string, plugin: string, config: Record<string, unknown>): string {
  return writePlugin(partition, `${name}.json`, JSON.stringify({ plugin, config }));
}

export function writeLegacy(partition: string, name: string, script: string): string {
  const f = join(partition, 'etc', 'promise', name);
  writeFileSync(f, script.startsWith('#!') ? script : `#!/bin/sh\n${script}\n`);
  chmodSync(f, 0o755);
  return f;
}

/** A settable clock. */
export function clock(start = '2025-01-01T00:00:00Z'): { now: () => Date; set: (iso: string) => void; advance: (ms: number) => void } {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    set: (iso) => {
      t = new Date(iso).getTime();
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** Config for an in-process promise instance. */
export function promiseConfig(partition: string, name: string, extra: Record<string, unknown> = {}): PromiseConfig {
  return {
    name,
    path: join(partition, 'etc', 'plugin', name),
    'partition-folder': partition,
    'log-folder': join(partition, '.vigil', 'promise', 'log'),
    ...extra,
  };
}

/** true while a pid runs (signal 0; a zombie waiting to be reaped counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
