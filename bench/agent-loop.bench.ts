// Agent loop: time from a failing anomaly to the re-instantiation of every partition of its
// instance tree, end to end with the built CLI (`vigil master` + `vigil agent`, real
// processes), for trees of 3 and 10 partitions on one computer. Build first (npm run build).
//   detect  = flag written → bang recorded at the master (anomaly check of the next cycle)
//   fan-out = bang → the last partition's etc/instantiate started
//   total   = flag written → every partition re-instantiated (its etc/instantiate ran)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  api,
  cleanup,
  instantiationCount,
  makePartition,
  seedFleet,
  spawnVigil,
  startMaster,
  tempDir,
  waitFor,
} from '../test/helpers/agent-loop.ts';

const INTERVAL = Number(process.env.BENCH_AGENT_INTERVAL ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function measure(size: number): Promise<{ detect: number; fanout: number; total: number }[]> {
  const dir = tempDir('vigil-bench-al-');
  const root = join(dir, 'root');
  const master = await startMaster({ dataDir: join(dir, 'master') });
  const ids = Array.from({ length: size }, (_, i) => `b${size}-${i}`);
  const { tokenFile } = await seedFleet(master.url, { dir, computerId: `bench${size}`, treeId: `tb${size}`, partitions: ids });
  const dirs = ids.map((id, i) => makePartition(root, id, i === 0 ? { failAnomalyWhen: 'down', repair: true } : {}));
  const agent = spawnVigil([
    'agent', '--master', master.url, '--computer', `bench${size}`, '--token-file', tokenFile, '--instance-root', root,
    '--interval', String(INTERVAL), '--concurrency', '2',
  ]);
  const out: { detect: number; fanout: number; total: number }[] = [];
  try {
    await waitFor('first instantiation', () => dirs.every((d) => instantiationCount(d) >= 1), 60_000);
    for (let round = 1; round <= ROUNDS; round++) {
      await waitFor('green', async () => {
        const r = await api<{ partitions: { colour: string }[] }>(master.url, 'GET', `/v1/partitions?instanceTreeId=tb${size}`);
        return r.body.partitions.every((p) => p.colour === 'green');
      }, 60_000);
      // start at a random point of the agent's cycle
      await new Promise((r) => setTimeout(r, Math.random() * INTERVAL * 1000));
      const t0 = Date.now();
      writeFileSync(join(dirs[0]!, 'var', 'down'), 'x');
      await waitFor('re-instantiation', () => dirs.every((d) => instantiationCount(d) >= round + 1), 60_000, 10);
      const total = Date.now() - t0;
      const bangs = (await api<{ bangs: { createdAt: string }[] }>(master.url, 'GET', `/v1/bangs?partitionId=${ids[0]}`)).body.bangs;
      const bangAt = Math.max(...bangs.map((b) => Date.parse(b.createdAt)));
      out.push({ detect: bangAt - t0, fanout: t0 + total - bangAt, total });
    }
  } finally {
    await agent.stop();
    await master.stop();
    cleanup(dir);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const size of [3, 10]) {
  const rounds = await measure(size);
  const f = (k: 'detect' | 'fanout' | 'total') => `${median(rounds.map((r) => r[k]))} ms (${rounds.map((r) => r[k]).join(', ')})`;
  console.log(`tree of ${size}, agent --interval ${INTERVAL}: detect ${f('detect')}; bang → all re-instantiated ${f('fanout')}; total ${f('total')}`);
}
