// 100 legacy promises that are /bin/true: one full engine run vs spawning 100 /bin/true
// directly with the same concurrency, measured in one process. Target: ratio <= 1.5.
//   npx tsx bench/promise-legacy.bench.ts
import { spawn } from 'node:child_process';
import { rmSync, symlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { runPartitionPromises } from '../agent/engine/index.ts';
import { median, tempPartition } from './promise-helpers.ts';

const N = 100;
const ROUNDS = 5;
const concurrency = availableParallelism();

function spawnDirect(): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('/bin/true', [], { stdio: ['ignore', 'pipe', 'pipe'] });
    c.on('error', reject);
    c.on('close', () => resolve());
  });
}

async function direct(): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < N) {
        next++;
        await spawnDirect();
      }
    }),
  );
  return performance.now() - t0;
}

const dir = tempPartition('vigil-bench-legacy-');
for (let i = 0; i < N; i++) symlinkSync('/bin/true', join(dir, 'etc', 'promise', `true-${String(i).padStart(3, '0')}`));

const directMs: number[] = [];
const engineMs: number[] = [];
await direct(); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  directMs.push(await direct());
  const t0 = performance.now();
  const res = await runPartitionPromises({ partitionDir: dir, mode: 'test', force: true, concurrency });
  engineMs.push(performance.now() - t0);
  if (!res.ok || res.results.length !== N) throw new Error('bench: the run did not keep 100 promises');
}
rmSync(dir, { recursive: true, force: true });
const d = median(directMs);
const e = median(engineMs);
const ratio = e / d;
console.log(
  `promise-legacy: ${N} x /bin/true, concurrency ${concurrency}: direct ${d.toFixed(1)} ms, engine ${e.toFixed(1)} ms, ratio ${ratio.toFixed(2)} (target <= 1.5) ${ratio <= 1.5 ? 'OK' : 'OVER'}`,
);
process.exitCode = ratio <= 1.5 ? 0 : 1;
