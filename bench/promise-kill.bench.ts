// Kill latency: a hanging plugin and a hanging legacy promise, each with a `sleep`
// grandchild, timeout 1 s. Measures, from the moment the timeout expires, how long until
// the run returns and until every process of both groups is gone. Target: <= 2 s.
//   npm run build && npx tsx bench/promise-kill.bench.ts
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPartitionPromises } from '../agent/engine/index.ts';
import { alive } from '../test/helpers/engine.ts';
import { median, tempPartition, useBuiltRunner } from './promise-helpers.ts';

const ROUNDS = 5;
const TIMEOUT_S = 1;
useBuiltRunner();


const returnMs: number[] = [];
const goneMs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const dir = tempPartition('vigil-bench-kill-');
  const pidFile = join(dir, 'pids');
  writeFileSync(
    join(dir, 'etc', 'plugin', 'hang.mjs'),
    `import { GenericPromise } from 'vigil/promise';
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
export default class Hang extends GenericPromise {
  async sense() {
    const c = spawn('sleep', ['300'], { stdio: 'ignore' });
    appendFileSync(${JSON.stringify(pidFile)}, c.pid + ' ' + process.pid + ' ');
    await new Promise(() => {});
  }
}
`,
  );
  const legacy = join(dir, 'etc', 'promise', 'hang-legacy');
  writeFileSync(legacy, `#!/bin/sh\nsleep 300 &\necho $! $$ >> ${pidFile}\nwait\n`);
  chmodSync(legacy, 0o755);
  const t0 = performance.now();
  const res = await runPartitionPromises({ partitionDir: dir, mode: 'test', timeoutSeconds: TIMEOUT_S, concurrency: 2 });
  const returned = performance.now();
  if (!res.results.every((x) => x.failed && /timed out/.test(x.message))) throw new Error(`bench: unexpected results ${JSON.stringify(res.results)}`);
  const pids = readFileSync(pidFile, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  if (pids.length !== 4) throw new Error(`bench: expected 4 pids, got ${pids.length}`);
  while (pids.some(alive)) {
    if (performance.now() - t0 > 30_000) throw new Error('bench: processes left behind');
    await new Promise((res) => setTimeout(res, 5));
  }
  const gone = performance.now();
  // the plugin's timeout counts from when its runner is ready: worst case is t0 + timeout + start-up
  returnMs.push(returned - t0 - TIMEOUT_S * 1000);
  goneMs.push(gone - t0 - TIMEOUT_S * 1000);
  rmSync(dir, { recursive: true, force: true });
}
const m = median(goneMs);
console.log(
  `promise-kill: hanging plugin + hanging legacy promise with grandchildren, timeout ${TIMEOUT_S} s: ` +
    `run returned ${median(returnMs).toFixed(0)} ms after the timeout, every process gone ${m.toFixed(0)} ms after it ` +
    `(median of ${ROUNDS}; all: ${goneMs.map((x) => x.toFixed(0)).join(', ')}) (target <= 2000 ms) ${m <= 2000 ? 'OK' : 'OVER'}`,
);
process.exitCode = Math.max(...goneMs) <= 2000 ? 0 : 1;
