// Fleet bench (issue 12, SPEC §5 "fleet"): a real `vigil master` process (the built CLI on a
// temp data dir: HTTP server, embedded dynalite store, in-process queue, minute sweep) with
// a fleet registered through the typed client, driven at the fleet's own rate.
//
//   npx tsx bench/fleet.bench.ts [--computers 1000] [--per-computer 10] [--seconds 120]
//     [--partitions-total 100000 | 0 to skip] [--report-rate 2] [--burst 1000] [--bangs 5]
//     [--concurrency 16] [--append]
//
// 1. registers `computers` × `per-computer` partitions (trees of 10 partitions across 10
//    computers), brings them green (a heartbeat each, one report per partition);
// 2. for `seconds`: heartbeats at the fleet's rate (each computer once a minute, staggered:
//    ≈ 17/s for 1,000), reports at `report-rate`/s plus a burst of `burst` reports from 50
//    agents at once half-way, `bangs` bangs; p50/p99 per call and the master's RSS;
// 3. every list page (`/v1/computers`, `/v1/partitions` with and without filters, a tree,
//    `/v1/bangs`, `/v1/summary`, a partition's promises) at the API's largest page, and every
//    dashboard page (each page of the computers and partitions lists at the largest page
//    size): size and time (median / p95); SPEC §5: each ≤ 1 MiB and ≤ 500 ms;
// 4. grows the fleet to `partitions-total` partitions and pages through
//    `GET /v1/partitions?limit=1000`, checking each partition appears exactly once.
// --append writes the figures into docs/benchmarks.md (replacing this bench's section).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mapLimit } from '../functions/lib/concurrency.ts';
import { createVigilClient, type VigilClient } from '../protocol/client.ts';
import type { ReportRequest } from '../protocol/index.ts';

const { values } = parseArgs({
  options: {
    computers: { type: 'string', default: '1000' },
    'per-computer': { type: 'string', default: '10' },
    seconds: { type: 'string', default: '120' },
    'partitions-total': { type: 'string', default: '100000' },
    'report-rate': { type: 'string', default: '2' },
    burst: { type: 'string', default: '1000' },
    bangs: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '10' },
    append: { type: 'boolean', default: false },
  },
});
const COMPUTERS = Number(values.computers);
const PER = Number(values['per-computer']);
const SECONDS = Number(values.seconds);
const TOTAL = Number(values['partitions-total']);
const REPORT_RATE = Number(values['report-rate']);
const BURST = Number(values.burst);
const BANGS = Number(values.bangs);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const TREE = 10;
const TOKEN = 'fleet-bench-admin-token';
const MiB = 1024 * 1024;
const root = resolve(import.meta.dirname ?? '.', '..');

// ------------------------------------------------------------------------------------------ helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], q: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const ms = (v: number) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(1) : v.toFixed(0)) : '–');
const kib = (bytes: number) => `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KiB`;
const n = (v: number) => v.toLocaleString('en-US');
const log = (line: string) => console.log(`[fleet ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const started = performance.now();

const cid = (c: number) => `fleet-c${String(c).padStart(5, '0')}`;
const pid = (c: number, k: number) => `fleet-c${String(c).padStart(5, '0')}-p${String(k).padStart(3, '0')}`;
/** Partition k of computer c is in tree k of its block of 10 computers: 10 partitions across 10 computers. */
const tid = (c: number, k: number) => `fleet-t${String(Math.floor(c / TREE)).padStart(5, '0')}-${String(k).padStart(3, '0')}`;

/** Runs `fn` over `count` indexes with bounded concurrency, printing progress every 5 s. */
async function withProgress(what: string, count: number, fn: (i: number) => Promise<void>, concurrency = CONCURRENCY): Promise<number> {
  const t0 = performance.now();
  let done = 0;
  let last = t0;
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      await fn(i);
      done++;
      const now = performance.now();
      if (now - last > 5000 || done === count) {
        last = now;
        log(`${what}: ${n(done)}/${n(count)} (${((done / (now - t0)) * 1000).toFixed(0)}/s)`);
      }
    },
  );
  return performance.now() - t0;
}

function report(partitionId: string, reportId: string, ok = true): ReportRequest {
  const at = new Date().toISOString();
  return {
    reportId,
    kind: 'anomaly',
    startedAt: at,
    durationMs: 850,
    ok,
    promises: Array.from({ length: 10 }, (_, i) => ({
      name: `check-${i}.json`,
      title: `check-${i}`,
      kind: 'anomaly' as const,
      failed: !ok && i === 0,
      message: !ok && i === 0 ? `GET https://${partitionId}.example.com/health: 503` : 'ok',
      date: at,
      executionTimeMs: 5 + i,
    })),
  };
}

// ------------------------------------------------------------------------------------------ the master process

interface Master {
  url: string;
  child: ChildProcess;
  rssKiB(): { rss: number; hwm: number };
  output(): string;
  stop(): Promise<void>;
}

async function startMaster(dataDir: string): Promise<Master> {
  const cli = join(root, 'dist', 'vigil.mjs');
  if (!existsSync(cli)) execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  const child = spawn(process.execPath, [cli, 'master', '--port', '0', '--data-dir', dataDir], {
    env: { ...process.env, VIGIL_ADMIN_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + String(d)).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const deadline = Date.now() + 60_000;
  let url = '';
  while (!url) {
    if (child.exitCode !== null) throw new Error(`vigil master exited (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) throw new Error(`vigil master did not start in 60 s:\n${out}`);
    url = out.match(/listening on (http:\/\/\S+)/)?.[1] ?? '';
    if (!url) await sleep(50);
  }
  const rssKiB = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return { rss: Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0), hwm: Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) };
    } catch {
      return { rss: 0, hwm: 0 };
    }
  };
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  return { url, child, rssKiB, output: () => out, stop };
}

// ------------------------------------------------------------------------------------------ load

type CallType = 'heartbeat' | 'report' | 'report (burst)' | 'bang';
const latencies: Record<CallType, number[]> = { heartbeat: [], report: [], 'report (burst)': [], bang: [] };
const errors: Record<CallType, string[]> = { heartbeat: [], report: [], 'report (burst)': [], bang: [] };
/** Heartbeat latencies while the burst runs. */
const burstHeartbeats: number[] = [];
let bursting = false;
let inFlight = 0;
let maxInFlight = 0;

async function timed(type: CallType, call: () => Promise<unknown>): Promise<void> {
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  const t = performance.now();
  try {
    await call();
    const d = performance.now() - t;
    latencies[type].push(d);
    if (type === 'heartbeat' && bursting) burstHeartbeats.push(d);
  } catch (err) {
    errors[type].push(String((err as Error).message ?? err).slice(0, 200));
  } finally {
    inFlight--;
  }
}

/** Fires `fire(k)` at t0 + k × gap for every k with a due time before `until` (never waits for a call). */
async function paced(t0: number, gapMs: number, until: number, fire: (k: number) => void): Promise<number> {
  let k = 0;
  for (;;) {
    const due = t0 + k * gapMs;
    if (due >= until) return k;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    fire(k++);
  }
}

// ------------------------------------------------------------------------------------------ measuring pages

interface PageStat {
  what: string;
  pages: number;
  maxBytes: number;
  times: number[];
  /** Why it could not be measured (e.g. an endpoint this master does not have yet). */
  error?: string;
}

/** A measure that failed is a row saying why, not the end of the bench. */
async function safely<S extends PageStat>(what: string, measure: () => Promise<S>): Promise<S | PageStat> {
  try {
    return await measure();
  } catch (err) {
    log(`${what}: ${(err as Error).message}`);
    return { what, pages: 0, maxBytes: 0, times: [], error: (err as Error).message.slice(0, 120) };
  }
}

async function measureGet(what: string, get: () => Promise<{ status: number; bytes: number }>, rounds = ROUNDS): Promise<PageStat> {
  const stat: PageStat = { what, pages: 1, maxBytes: 0, times: [] };
  for (let r = 0; r < rounds + 1; r++) {
    const t = performance.now();
    const res = await get();
    const d = performance.now() - t;
    if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status}`);
    stat.maxBytes = Math.max(stat.maxBytes, res.bytes);
    if (r > 0) stat.times.push(d); // one warm-up
  }
  return stat;
}

/** Every page of an API list from `path` (following nextCursor); the ids of `key` seen. */
async function walkApi(client: VigilClient, what: string, path: string, key: string, idOf: (item: Record<string, unknown>) => string): Promise<PageStat & { ids: string[] }> {
  const stat = { what, pages: 0, maxBytes: 0, times: [] as number[], ids: [] as string[] };
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const t = performance.now();
    const r = await client.raw('GET', cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    stat.times.push(performance.now() - t);
    if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    stat.pages++;
    stat.maxBytes = Math.max(stat.maxBytes, Buffer.byteLength(r.text));
    const body = r.body as Record<string, unknown> & { nextCursor: string | null };
    for (const item of (body[key] as Record<string, unknown>[]) ?? []) stat.ids.push(idOf(item));
    cursor = body.nextCursor;
    if (stat.pages > 100_000) throw new Error(`${what}: no end`);
  } while (cursor);
  return stat;
}

async function login(url: string): Promise<string> {
  const res = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: TOKEN, next: '/' }).toString(),
  });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  if (res.status !== 303 || !cookie) throw new Error(`dashboard login: HTTP ${res.status}`);
  return cookie;
}

async function dashboardGet(url: string, cookie: string, path: string): Promise<{ status: number; bytes: number; html: string }> {
  const res = await fetch(`${url}${path}`, { headers: { cookie }, redirect: 'manual' });
  const html = await res.text();
  return { status: res.status, bytes: Buffer.byteLength(html), html };
}

/** Every page of a dashboard list, following its "Next page" links. */
async function walkDashboard(url: string, cookie: string, what: string, path: string): Promise<PageStat> {
  const stat: PageStat = { what, pages: 0, maxBytes: 0, times: [] };
  let href: string | null = path;
  while (href) {
    const t = performance.now();
    const r = await dashboardGet(url, cookie, href);
    stat.times.push(performance.now() - t);
    if (r.status !== 200) throw new Error(`${what} ${href}: HTTP ${r.status}`);
    stat.pages++;
    stat.maxBytes = Math.max(stat.maxBytes, r.bytes);
    const next = r.html.match(/<a href="([^"]+)" rel="next" data-goto="next">/)?.[1];
    href = next ? next.replace(/&amp;/g, '&') : null;
    if (stat.pages > 10_000) throw new Error(`${what}: no end`);
  }
  return stat;
}

const statRow = (s: PageStat) =>
  s.error
    ? `| ${s.what} | – | – | – | – | failed: ${s.error.replace(/\|/g, '/')} |`
    : `| ${s.what} | ${s.pages} | ${kib(s.maxBytes)} | ${ms(pct(s.times, 0.5))} ms | ${ms(pct(s.times, 0.95))} ms | ${s.maxBytes <= MiB && pct(s.times, 0.95) <= 500 ? 'yes' : '**no**'} |`;
const statTable = (rows: PageStat[]) =>
  ['| page | pages | largest | median | p95 | ≤ 1 MiB and p95 ≤ 500 ms |', '|---|---|---|---|---|---|', ...rows.map(statRow)].join('\n');

// ------------------------------------------------------------------------------------------ run

const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-fleet-'));
const master = await startMaster(dataDir);
const lines: string[] = [];
try {
  log(`vigil master ${master.url} (pid ${master.child.pid}), data dir ${dataDir}`);
  const admin = createVigilClient({ baseUrl: master.url, token: TOKEN });
  await admin.putSoftwareRelease('fleet-sr', { url: 'https://example.invalid/fleet-sr', bangQuotaPerDay: 24 });

  // 1. register and bring green
  const tokens: string[] = new Array(COMPUTERS);
  const regComputers = await withProgress('computers', COMPUTERS, async (c) => {
    const r = await admin.putComputer(cid(c), { instantiationFrequencySeconds: 60 });
    if (!r.created) throw new Error(`${cid(c)} existed`);
    tokens[c] = r.token.token;
  });
  const as = (c: number) => admin.withToken(tokens[c]!);
  const partitions = COMPUTERS * PER;
  const regPartitions = await withProgress('partitions', partitions, async (i) => {
    const c = Math.floor(i / PER);
    const k = i % PER;
    await admin.putPartition(pid(c, k), { computerId: cid(c), instanceTreeId: tid(c, k), softwareReleaseId: 'fleet-sr' });
  });
  const greenMs = await withProgress('first heartbeat + report (green)', partitions, async (i) => {
    const c = Math.floor(i / PER);
    const k = i % PER;
    if (k === 0) await as(c).heartbeat(cid(c), { agentVersion: 'fleet-bench' });
    await as(c).report(pid(c, k), report(pid(c, k), `${pid(c, k)}-r0`));
  });
  log(`registered ${n(COMPUTERS)} computers in ${(regComputers / 1000).toFixed(1)} s, ${n(partitions)} partitions in ${(regPartitions / 1000).toFixed(1)} s, green in ${(greenMs / 1000).toFixed(1)} s; master RSS ${n(master.rssKiB().rss)} KiB`);

  // 2. the fleet's rate for SECONDS
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(master.rssKiB().rss), 1000);
  const t0 = performance.now();
  const until = t0 + SECONDS * 1000;
  const hbGap = 60_000 / COMPUTERS;
  let reportSeq = 0;
  const reportOf = (type: CallType) => {
    const i = reportSeq++;
    const c = (i * 7919) % COMPUTERS; // spread over the fleet
    const k = i % PER;
    // one report in 50 is a failure (the partition turns red until its next report)
    void timed(type, () => as(c).report(pid(c, k), report(pid(c, k), `${pid(c, k)}-r${i + 1}`, i % 50 !== 7)));
  };
  const progress = setInterval(() => {
    log(`load: ${n(latencies.heartbeat.length)} heartbeats (p99 ${ms(pct(latencies.heartbeat, 0.99))} ms), ${n(latencies.report.length + latencies['report (burst)'].length)} reports, ${latencies.bang.length} bangs, in flight ${inFlight}, RSS ${n(master.rssKiB().rss)} KiB`);
  }, 15_000);
  const burst = async () => {
    await sleep(Math.max(0, t0 + (SECONDS * 1000) / 2 - performance.now()));
    if (BURST <= 0) return;
    log(`burst: ${n(BURST)} reports from 50 agents at once`);
    bursting = true;
    const t = performance.now();
    await mapLimit(
      Array.from({ length: BURST }, (_, i) => i),
      50,
      async () => {
        const i = reportSeq++;
        const c = (i * 7919) % COMPUTERS;
        const k = i % PER;
        await timed('report (burst)', () => as(c).report(pid(c, k), report(pid(c, k), `${pid(c, k)}-r${i + 1}`)));
      },
    );
    bursting = false;
    log(`burst: done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };
  const [heartbeats, reports] = await Promise.all([
    paced(t0, hbGap, until, (k) => {
      const c = k % COMPUTERS;
      void timed('heartbeat', () => as(c).heartbeat(cid(c), { agentVersion: 'fleet-bench' }));
    }),
    REPORT_RATE > 0 ? paced(t0, 1000 / REPORT_RATE, until, () => reportOf('report')) : 0,
    BANGS > 0
      ? paced(t0 + (SECONDS * 1000) / (BANGS + 1), (SECONDS * 1000) / (BANGS + 1), until - 1, (j) => {
          const c = (j * TREE * 3) % COMPUTERS; // a different tree each time
          void timed('bang', () => as(c).bang(pid(c, 0), { bangId: `fleet-bang-${j}`, message: `bench bang ${j}`, source: 'promise' }));
        })
      : 0,
    burst(),
  ]);
  while (inFlight > 0) await sleep(20);
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(progress);
  clearInterval(sampler);
  const rssNow = master.rssKiB();
  log(`load done: ${n(heartbeats)} heartbeats (${(heartbeats / elapsed).toFixed(1)}/s), ${n(reports)} reports + ${n(BURST)} burst, ${BANGS} bangs in ${elapsed.toFixed(0)} s; max in flight ${maxInFlight}`);
  const callRows = (Object.keys(latencies) as CallType[]).map(
    (t) => `| ${t} | ${n(latencies[t].length)} | ${errors[t].length} | ${ms(pct(latencies[t], 0.5))} ms | ${ms(pct(latencies[t], 0.99))} ms | ${ms(Math.max(0, ...latencies[t]))} ms |`,
  );
  callRows.push(`| heartbeat during the burst | ${n(burstHeartbeats.length)} | – | ${ms(pct(burstHeartbeats, 0.5))} ms | ${ms(pct(burstHeartbeats, 0.99))} ms | ${ms(Math.max(0, ...burstHeartbeats))} ms |`);
  for (const t of Object.keys(errors) as CallType[]) if (errors[t].length) log(`${t} errors (first): ${errors[t][0]}`);

  // 3. every list page and dashboard page
  const tree = tid(0, 0);
  const somePartition = pid(0, 0);
  log('lists: paging through every API list at limit 1000');
  const api: PageStat[] = [];
  const comps = await walkApi(admin, 'GET /v1/computers?limit=1000 (every page)', '/v1/computers?limit=1000', 'computers', (x) => String(x['computerId']));
  api.push(comps);
  const parts = await walkApi(admin, 'GET /v1/partitions?limit=1000 (every page)', '/v1/partitions?limit=1000', 'partitions', (x) => String(x['partitionId']));
  api.push(parts);
  for (const [what, path, key, id] of [
    ['GET /v1/computers?colour=green&limit=1000', '/v1/computers?colour=green&limit=1000', 'computers', 'computerId'],
    ['GET /v1/partitions?colour=red&limit=1000', '/v1/partitions?colour=red&limit=1000', 'partitions', 'partitionId'],
    ['GET /v1/partitions?crimes=true&limit=1000', '/v1/partitions?crimes=true&limit=1000', 'partitions', 'partitionId'],
    [`GET /v1/partitions?computerId=…&limit=1000`, `/v1/partitions?computerId=${cid(0)}&limit=1000`, 'partitions', 'partitionId'],
    [`GET /v1/partitions?instanceTreeId=…&limit=1000`, `/v1/partitions?instanceTreeId=${tree}&limit=1000`, 'partitions', 'partitionId'],
    ['GET /v1/bangs?limit=1000', '/v1/bangs?limit=1000', 'bangs', 'bangId'],
    ['GET /v1/partitions (default page)', '/v1/partitions', 'partitions', 'partitionId'],
  ] as const) {
    api.push(await safely(what, () => walkApi(admin, what, path, key, (x) => String(x[id]))));
  }
  for (const [what, path] of [
    ['GET /v1/instance-trees/{id}?limit=1000', `/v1/instance-trees/${tree}?limit=1000`],
    ['GET /v1/summary', '/v1/summary'],
    ['GET /v1/partitions/{id}/promises', `/v1/partitions/${somePartition}/promises`],
  ] as const) {
    api.push(
      await safely(what, () =>
        measureGet(what, async () => {
          const r = await admin.raw('GET', path);
          return { status: r.status, bytes: Buffer.byteLength(r.text) };
        }),
      ),
    );
  }
  const seenOnce = new Set(parts.ids).size === parts.ids.length && parts.ids.length === partitions;
  log(`lists: ${parts.ids.length} partitions listed (${seenOnce ? 'each exactly once' : 'NOT each exactly once'}), ${comps.ids.length} computers`);

  log('dashboard: every page');
  const cookie = await login(master.url);
  const dash: PageStat[] = [];
  dash.push(await safely('/?limit=200', () => walkDashboard(master.url, cookie, '/?limit=200 (every page)', '/?limit=200')));
  dash.push(await safely('/partitions?limit=200', () => walkDashboard(master.url, cookie, '/partitions?limit=200 (every page)', '/partitions?limit=200')));
  for (const path of ['/', '/?colour=red', '/partitions', '/partitions?colour=red&limit=200', `/partitions?tree=${tree}`, `/trees/${tree}`, `/computers/${cid(0)}`, `/partitions/${somePartition}`, '/bangs?limit=200', '/crimes?limit=100']) {
    const what = path.replace(/fleet-[a-z0-9-]+/g, '…');
    dash.push(await safely(what, () => measureGet(what, () => dashboardGet(master.url, cookie, path))));
  }

  lines.push(
    `### Fleet at the fleet's rate: ${n(COMPUTERS)} computers × ${PER} partitions, ${SECONDS} s`,
    '',
    `Registration through the typed client (concurrency ${CONCURRENCY}): ${n(COMPUTERS)} computers in ${(regComputers / 1000).toFixed(1)} s, ${n(partitions)} partitions in ${(regPartitions / 1000).toFixed(1)} s, a heartbeat each and one report per partition in ${(greenMs / 1000).toFixed(1)} s.`,
    `Load: ${n(heartbeats)} heartbeats (${(heartbeats / elapsed).toFixed(1)}/s, each computer once a minute, staggered), ${n(reports)} reports at ${REPORT_RATE}/s (10 promises each) plus a burst of ${n(BURST)} reports from 50 agents at once half-way, ${BANGS} bangs (each to a tree of ${TREE}). Latencies as the client sees them (HTTP on 127.0.0.1, response validated).`,
    '',
    '| call | count | errors | p50 | p99 | max |',
    '|---|---|---|---|---|---|',
    ...callRows,
    '',
    `Master RSS: ${n(Math.round(Math.max(0, ...rss) / 1024))} MiB at most during the load (${n(Math.round(rssNow.rss / 1024))} MiB after it; peak of the process ${n(Math.round(rssNow.hwm / 1024))} MiB).`,
    '',
    `API lists (${n(partitions)} partitions; ${parts.pages} page(s) of 1,000 hold ${n(parts.ids.length)} partitions, ${seenOnce ? 'each exactly once' : '**not each exactly once**'}):`,
    '',
    statTable(api),
    '',
    `Dashboard pages over HTTP with a session (${ROUNDS} rounds each; "every page" rows follow the Next links):`,
    '',
    statTable(dash),
  );

  // 4. grow to TOTAL partitions and page through them
  if (TOTAL > partitions) {
    const extra = TOTAL - partitions;
    const perComputer = Math.ceil(extra / COMPUTERS);
    const growMs = await withProgress(`grow to ${n(TOTAL)} partitions`, extra, async (i) => {
      const c = i % COMPUTERS;
      const k = PER + Math.floor(i / COMPUTERS);
      await admin.putPartition(pid(c, k), { computerId: cid(c), instanceTreeId: tid(c, k), softwareReleaseId: 'fleet-sr' });
    });
    log(`grown in ${(growMs / 1000).toFixed(0)} s (${perComputer} more per computer); paging through GET /v1/partitions?limit=1000`);
    const all = await walkApi(admin, `GET /v1/partitions?limit=1000 (every page, ${n(TOTAL)})`, '/v1/partitions?limit=1000', 'partitions', (x) => String(x['partitionId']));
    const unique = new Set(all.ids).size;
    const once = unique === all.ids.length && all.ids.length === TOTAL;
    log(`${n(all.ids.length)} listed in ${all.pages} pages, ${n(unique)} distinct: ${once ? 'each exactly once' : 'NOT each exactly once'}`);
    const big: PageStat[] = [all];
    for (const path of ['/', '/partitions', '/partitions?limit=200', '/partitions?colour=red', '/crimes']) {
      big.push(await safely(path, () => measureGet(`dashboard ${path}`, () => dashboardGet(master.url, cookie, path), Math.min(ROUNDS, 5))));
    }
    big.push(
      await safely('GET /v1/summary', () =>
        measureGet(
          'GET /v1/summary',
          async () => {
            const r = await admin.raw('GET', '/v1/summary');
            return { status: r.status, bytes: Buffer.byteLength(r.text) };
          },
          Math.min(ROUNDS, 5),
        ),
      ),
    );
    lines.push(
      '',
      `### ${n(TOTAL)} partitions`,
      '',
      `${n(extra)} more partitions registered in ${(growMs / 1000).toFixed(0)} s (concurrency ${CONCURRENCY}); \`GET /v1/partitions?limit=1000\` paged through: ${n(all.ids.length)} partitions in ${all.pages} page(s), ${once ? '**each exactly once**' : '**not each exactly once**'}. Master RSS after: ${n(Math.round(master.rssKiB().rss / 1024))} MiB.`,
      '',
      statTable(big),
    );
    if (!once) process.exitCode = 1;
  }
  if (!seenOnce) process.exitCode = 1;

  const text = lines.join('\n');
  console.log(`\n${text}\n`);
  if (values.append) {
    const file = join(root, 'docs', 'benchmarks.md');
    const cmd = `npx tsx bench/fleet.bench.ts --computers ${COMPUTERS} --per-computer ${PER} --seconds ${SECONDS} --partitions-total ${TOTAL} --append`;
    const title = '## Fleet: heartbeats, lists and dashboard pages at fleet scale (issue 12)';
    const section = `${title}\n\n\`${cmd}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? '?'}); the load generator and the master share the cores.\n\n${text}\n`;
    const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const at = doc.indexOf(`${title}\n`);
    if (at < 0) appendFileSync(file, `\n${section}`);
    else {
      const next = doc.indexOf('\n## ', at + 3);
      writeFileSync(file, `${doc.slice(0, at)}${section}${next < 0 ? '' : doc.slice(next)}`);
    }
    log(`written to ${file}`);
  }
} catch (err) {
  console.error(`fleet bench failed: ${(err as Error).stack ?? err}\n--- master output (tail) ---\n${master.output().slice(-3000)}`);
  process.exitCode = 1;
} finally {
  await master.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
