// 100 trivial plugin promises (custom .mjs modules importing vigil/promise): one full run,
// including starting the runner processes. Target: <= 1000 ms on 2 cores.
//   npm run build && npx tsx bench/promise-plugins.bench.ts
import { rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { runPartitionPromises } from '../agent/engine/index.ts';
import { median, tempPartition, useBuiltRunner } from './promise-helpers.ts';

const N = 100;
const ROUNDS = 5;
useBuiltRunner();
const concurrency = availableParallelism();
const dir = tempPartition('vigil-bench-plugins-');
for (let i = 0; i < N; i++) {
  writeFileSync(
    join(dir, 'etc', 'plugin', `trivial-${String(i).padStart(3, '0')}.mjs`),
    `import { GenericPromise } from 'vigil/promise';
export default class Trivial extends GenericPromise {
  sense() { this.logger.info('ok ${i}'); }
}
`,
  );
}
const runs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  const res = await runPartitionPromises({ partitionDir: dir, mode: 'test', force: true, concurrency });
  runs.push(performance.now() - t0);
  if (!res.ok || res.results.length !== N) {
    throw new Error(`bench: the run did not keep ${N} promises: ${JSON.stringify(res.results.find((x) => x.failed))}`);
  }
}
rmSync(dir, { recursive: true, force: true });
const m = median(runs);
console.log(
  `promise-plugins: ${N} trivial plugins, concurrency ${concurrency}: median ${m.toFixed(0)} ms (runs: ${runs.map((x) => x.toFixed(0)).join(', ')}) (target <= 1000 ms) ${m <= 1000 ? 'OK' : 'OVER'}`,
);
process.exitCode = m <= 1000 ? 0 : 1;
