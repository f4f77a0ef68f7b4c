// Lambda bundle size and cold module load (issue 5; SPEC §5: api bundle ≤ 1 MiB, cold module
// load ≤ 300 ms in a fresh Node process).
//   npx tsx bench/lambda-bundle.bench.ts [--rounds 15] [--append]
// Bundles the three handlers exactly as `cdk synth` does (scripts/bundle-lambda.mjs), then for
// each round starts a fresh `node` (this one's binary) that imports the api bundle from a
// directory outside the repository and answers GET /healthz with an API Gateway v2 event.
// "cold module load" = import of index.mjs (load + evaluate), measured inside the process;
// "first request" = the first handler call (builds the Hono app and the AWS SDK clients).
// Measured as deployed (NODE_OPTIONS=--enable-source-maps) and without source maps.
// Exits 1 when a target is missed. --append adds the figures to docs/benchmarks.md.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { bundleLambda, HANDLERS } from '../scripts/bundle-lambda.mjs';
import { apiGatewayV2Event } from '../test/helpers/cloud-events.ts';
import { FRESH_ENV } from '../test/helpers/cloud-bundle.ts';
import { spawnSync } from 'node:child_process';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, append: { type: 'boolean', default: false } } });
const ROUNDS = Number(values.rounds);
const MiB = 1024 * 1024;
const SIZE_TARGET = MiB;
const LOAD_TARGET_MS = 300;

const RUNNER = `
const [bundle, eventJson] = process.argv.slice(1);
const t0 = performance.now();
const mod = await import(bundle);
const loadMs = performance.now() - t0;
const t1 = performance.now();
const res = await mod.handler(JSON.parse(eventJson), { functionName: 'bench', awsRequestId: 'b', getRemainingTimeInMillis: () => 10000 });
const firstMs = performance.now() - t1;
if (res.statusCode !== 200) throw new Error('healthz answered ' + res.statusCode);
process.stdout.write(JSON.stringify({ loadMs, firstMs }));
`;

function fresh(bundle: string, sourceMaps: boolean): { loadMs: number; firstMs: number; wallMs: number } {
  const env = { ...FRESH_ENV, NODE_OPTIONS: sourceMaps ? '--enable-source-maps' : '' };
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', RUNNER, `file://${bundle}`, JSON.stringify(apiGatewayV2Event({ method: 'GET', path: '/healthz' }))], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    cwd: '/',
  });
  const wallMs = performance.now() - t;
  if (r.status !== 0) throw new Error(`fresh node failed: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as { loadMs: number; firstMs: number }), wallMs };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { min: s[0]!, median: q(0.5), p90: q(0.9) };
};
const ms = (n: number) => `${n.toFixed(0)} ms`;
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

const out = mkdtempSync(join(tmpdir(), 'vigil-bundle-bench-'));
try {
  const sizes: Record<string, { raw: number; gzip: number }> = {};
  for (const name of HANDLERS) {
    await bundleLambda(name, join(out, name));
    const file = join(out, name, 'index.mjs');
    sizes[name] = { raw: statSync(file).size, gzip: gzipSync(readFileSync(file)).length };
  }
  const api = join(out, 'api', 'index.mjs');
  fresh(api, true); // warm the OS file cache once
  const deployed: ReturnType<typeof fresh>[] = [];
  const noMaps: ReturnType<typeof fresh>[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    deployed.push(fresh(api, true));
    noMaps.push(fresh(api, false));
  }
  const load = stats(deployed.map((r) => r.loadMs));
  const first = stats(deployed.map((r) => r.firstMs));
  const wall = stats(deployed.map((r) => r.wallMs));
  const loadNoMaps = stats(noMaps.map((r) => r.loadMs));

  const lines = [
    `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${ROUNDS} fresh processes per mode`,
    ...HANDLERS.map((n) => `${n.padEnd(6)} bundle: ${kib(sizes[n]!.raw)} (${sizes[n]!.raw} bytes; gzip ${kib(sizes[n]!.gzip)})`),
    `api cold module load (as deployed, --enable-source-maps): median ${ms(load.median)}, min ${ms(load.min)}, p90 ${ms(load.p90)}`,
    `api cold module load (no source maps):                   median ${ms(loadNoMaps.median)}, min ${ms(loadNoMaps.min)}, p90 ${ms(loadNoMaps.p90)}`,
    `api first request GET /healthz after load:               median ${ms(first.median)}, p90 ${ms(first.p90)}`,
    `whole fresh process (spawn → answer → exit):             median ${ms(wall.median)}, p90 ${ms(wall.p90)}`,
  ];
  console.log(lines.join('\n'));
  const sizeOk = sizes.api!.raw <= SIZE_TARGET;
  const loadOk = load.median <= LOAD_TARGET_MS;
  console.log(`targets: api bundle ≤ 1 MiB ${sizeOk ? 'OK' : 'MISSED'}; cold module load ≤ ${LOAD_TARGET_MS} ms ${loadOk ? 'OK' : 'MISSED'}`);

  if (values.append) {
    appendFileSync(
      join(import.meta.dirname, '..', 'docs', 'benchmarks.md'),
      `
## Lambda bundles (issue 5)

\`npx tsx bench/lambda-bundle.bench.ts\` — bundles the handlers exactly as \`cdk synth\` does
(\`scripts/bundle-lambda.mjs\`: esbuild, ESM, minified, node22 target, AWS SDK v3 bundled,
zod locales other than English dropped), then starts ${ROUNDS} fresh \`node\` processes per mode
that import the api bundle from a directory outside the repository and answer \`GET /healthz\`
with an API Gateway v2 event. Cold module load = \`import()\` of index.mjs (read, parse,
evaluate), timed inside the process; ${process.version} on ${cpus().length} cores, other helpers' tests running.

| figure | result | target |
|---|---|---|
| api bundle | **${kib(sizes.api!.raw)}** (${sizes.api!.raw} bytes; gzip ${kib(sizes.api!.gzip)}) | ≤ 1 MiB |
| fanout / sweep bundles | ${kib(sizes.fanout!.raw)} / ${kib(sizes.sweep!.raw)} | — |
| api cold module load, as deployed (\`--enable-source-maps\`) | **median ${ms(load.median)}** (min ${ms(load.min)}, p90 ${ms(load.p90)}) | ≤ 300 ms |
| api cold module load, no source maps | median ${ms(loadNoMaps.median)} (min ${ms(loadNoMaps.min)}, p90 ${ms(loadNoMaps.p90)}) | — |
| first request after load (builds app + SDK clients) | median ${ms(first.median)} (p90 ${ms(first.p90)}) | — |
| whole fresh process (spawn, load, answer, exit) | median ${ms(wall.median)} (p90 ${ms(wall.p90)}) | — |
`,
    );
  }
  if (!sizeOk || !loadOk) process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
