// Shared helpers of the promise engine benches (bench/promise-*.bench.ts).
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Use the built runner (dist/promise-runner.mjs), as the installed CLI does. */
export function useBuiltRunner(): void {
  const built = process.env['VIGIL_PROMISE_RUNNER'] ?? join(repoRoot, 'dist', 'promise-runner.mjs');
  if (!existsSync(built)) {
    throw new Error(`${built} is missing: run 'npm run build' first`);
  }
  process.env['VIGIL_PROMISE_RUNNER'] = built;
}

export function tempPartition(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'etc', 'plugin'), { recursive: true });
  mkdirSync(join(dir, 'etc', 'promise'), { recursive: true });
  return dir;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
