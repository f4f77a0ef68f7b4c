// How long the dashboard's pages take (issue 6; paged since issue 12).
//   npx tsx bench/dashboard.bench.ts [--partitions 1000] [--rounds 20] [--append]
// Runs the embedded local master (same app as Lambda, dynalite store) with 20 computers
// and 1,000 partitions in 50 instance trees, 10% of them failing, logs in and measures:
//  - end to end: GET / (summary + one page of computers + the first failing partitions)
//    and the partitions list (its first page at the default 100 and the largest 200 rows,
//    and the failing ones) over HTTP with the session cookie (API reads on dynalite + render),
//  - render only: the fleet page with the API answers served from memory.
// The pages read one API page each, so their size does not grow with the fleet (the fleet
// bench, bench/fleet.bench.ts, measures them with 10,000 and 100,000 partitions).
// --append writes the figures into docs/benchmarks.md (replacing this bench's section).
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDashboard } from '../functions/dashboard/index.tsx';
import { FLEET_FAILING_ROWS } from '../functions/dashboard/paging.ts';
import { createSessions } from '../functions/dashboard/sessions.ts';
import { startLocalMaster } from '../functions/local/master.ts';
import { createVigilClient } from '../protocol/client.ts';

const { values } = parseArgs({
  options: {
    partitions: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '20' },
    append: { type: 'boolean', default: false },
  },
});
const N = Number(values.partitions);
const ROUNDS = Number(values.rounds);
const COMPUTERS = 20;
const TREES = 50;
const TOKEN = 'bench-admin-token';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))]!;

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-dashboard-'));
const master = await startLocalMaster({ port: 0, dataDir, adminToken: TOKEN, log: () => {} });
try {
  const admin = createVigilClient({ baseUrl: master.url, token: TOKEN });
  const t0 = performance.now();
  await admin.putSoftwareRelease('bench-sr', { url: 'https://example.invalid/bench' });
  const tokens: string[] = [];
  for (let c = 0; c < COMPUTERS; c++) {
    const r = await admin.putComputer(`bench-c${c}`);
    if (!r.created) throw new Error(`bench-c${c} existed`);
    tokens.push(r.token.token);
  }
  const ids = Array.from({ length: N }, (_, i) => i);
  await pool(ids, 16, async (i) => {
    const c = i % COMPUTERS;
    await admin.putPartition(`bench-p${i}`, {
      computerId: `bench-c${c}`,
      instanceTreeId: `bench-t${i % TREES}`,
      softwareReleaseId: 'bench-sr',
    });
    const failing = i % 10 === 0;
    const now = new Date().toISOString();
    await admin.withToken(tokens[c]!).report(`bench-p${i}`, {
      reportId: `bench-r${i}`,
      kind: 'instantiation',
      startedAt: now,
      durationMs: 1200,
      ok: !failing,
      promises: [{ name: 'check-port.json', title: 'check-port', kind: 'test', failed: failing, message: failing ? 'refused' : 'ok', date: now, executionTimeMs: 12 }],
    });
  });
  for (let c = 0; c < COMPUTERS; c++) await admin.withToken(tokens[c]!).heartbeat(`bench-c${c}`, { agentVersion: 'bench' });
  const seedMs = performance.now() - t0;

  // log in
  const login = await fetch(`${master.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: TOKEN }).toString(),
  });
  const cookie = login.headers.get('set-cookie')?.split(';')[0];
  if (login.status !== 303 || !cookie) throw new Error(`login failed: ${login.status} (is the dashboard mounted?)`);

  // end to end over HTTP
  const timePage = async (path: string, mustHold: string) => {
    const times: number[] = [];
    let bytes = 0;
    for (let r = 0; r < ROUNDS + 2; r++) {
      const s = performance.now();
      const res = await fetch(`${master.url}${path}`, { headers: { cookie } });
      const html = await res.text();
      const ms = performance.now() - s;
      if (res.status !== 200 || !html.includes(mustHold)) throw new Error(`${path}: ${res.status}`);
      bytes = Buffer.byteLength(html);
      if (r >= 2) times.push(ms); // 2 warm-up rounds
    }
    return { path, times, bytes };
  };
  const fleet = await timePage('/', 'bench-c19');
  const e2e = fleet.times;
  const bytes = fleet.bytes;
  const lists = [
    await timePage('/partitions', 'data-partition='),
    await timePage('/partitions?limit=200', 'data-partition='),
    await timePage('/partitions?colour=red', 'data-partition='),
  ];

  // render only: the API answers the fleet page reads, captured once, served from memory
  const cache = new Map<string, string>();
  const capture = createDashboard({
    adminToken: () => TOKEN,
    now: () => new Date(),
    api: async (path, init) => {
      const res = await fetch(`${master.url}${path}`, init);
      const text = await res.text();
      cache.set(path, text);
      return new Response(text, { status: res.status, headers: { 'content-type': 'application/json' } });
    },
    sessions: createSessions({ store: master.store, now: () => new Date() }),
  });
  await (await capture.request('/', { headers: { cookie } })).text();
  const dash = createDashboard({
    adminToken: () => TOKEN,
    now: () => new Date(),
    api: (path) => new Response(cache.get(path) ?? '{}', { headers: { 'content-type': 'application/json' } }),
    sessions: createSessions({ store: master.store, now: () => new Date() }),
  });
  const render: number[] = [];
  for (let r = 0; r < ROUNDS + 2; r++) {
    const s = performance.now();
    const res = await dash.request('/', { headers: { cookie } });
    await res.text();
    if (r >= 2) render.push(performance.now() - s);
  }

  const listText = lists.map((l) => `${l.path} median ${median(l.times).toFixed(0)} ms, ${(l.bytes / 1024).toFixed(0)} KiB`).join('; ');
  const line = `dashboard fleet page, ${N} partitions / ${COMPUTERS} computers / ${TREES} trees (${N / 10} failing), ${ROUNDS} rounds: end to end (HTTP, dynalite) median ${median(e2e).toFixed(0)} ms, p95 ${p95(e2e).toFixed(0)} ms; render only median ${median(render).toFixed(1)} ms, p95 ${p95(render).toFixed(1)} ms; page ${(bytes / 1024).toFixed(0)} KiB; ${listText}; seeding ${(seedMs / 1000).toFixed(1)} s`;
  console.log(line);
  if (values.append) {
    const file = join(import.meta.dirname ?? '.', '..', 'docs', 'benchmarks.md');
    const section =
      `## Dashboard: fleet page with ${N} partitions\n\n` +
        `\`npx tsx bench/dashboard.bench.ts --append\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
        `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? '?'}). Paged pages (issue 12): each reads one API page ` +
        `of each list and the summary, so these figures no longer grow with the fleet (see the fleet bench for 10,000 and 100,000 partitions).\n\n` +
        `| measure | median | p95 | size |\n|---|---|---|---|\n` +
        `| GET / end to end (HTTP → dashboard → /v1 API in-process → dynalite) | ${median(e2e).toFixed(0)} ms | ${p95(e2e).toFixed(0)} ms | ${(bytes / 1024).toFixed(0)} KiB |\n` +
        `| GET / render only (API answers from memory) | ${median(render).toFixed(1)} ms | ${p95(render).toFixed(1)} ms | |\n` +
        lists.map((l) => `| GET ${l.path} end to end | ${median(l.times).toFixed(0)} ms | ${p95(l.times).toFixed(0)} ms | ${(l.bytes / 1024).toFixed(0)} KiB |\n`).join('') +
        `\n${COMPUTERS} computers, ${N} partitions in ${TREES} trees, ${N / 10} failing (the fleet page lists the first ${FLEET_FAILING_ROWS}).\n`;
    // Replaces this section when it is there already (a re-run updates the figures), else appends it.
    const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const start = doc.indexOf(`## Dashboard: fleet page with ${N} partitions\n`);
    if (start < 0) {
      appendFileSync(file, `\n${section}`);
    } else {
      const next = doc.indexOf('\n## ', start + 3);
      writeFileSync(file, `${doc.slice(0, start)}${section}${next < 0 ? '' : doc.slice(next)}`);
    }
  }
} finally {
  await master.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
