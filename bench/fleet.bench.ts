// Fleet bench (issue 12, SPEC §5 "fleet"): a real `vigil master` process (the built CLI on a
// temp data dir: HTTP server, embedded dynalite store, in-process queue, minute sweep) with
// a fleet registered through the typed client, driven at the fleet's own rate.
//
//   npx tsx bench/fleet.bench.ts [--computers 1000] [--per-computer 10] [--seconds 120]
//     [--partitions-total 100000 | 0 to skip] [--report-rate 2] [--burst 1000] [--burst-agents 50] [--bangs 5]
//     [--concurrency 16] [--note 'what else ran'] [--profile DIR] [--append]
//   npm run bench:fleet [-- options]   (builds first; `npm run bench` alone skips this bench: ~25 min)
//
// 1. registers `computers` × `per-computer` partitions (trees of 10 partitions across 10
//    computers), brings them green (a heartbeat each, one report per partition);
// 2. for `seconds`: heartbeats at the fleet's rate (each computer once a minute, staggered:
//    ≈ 17/s for 1,000), reports at `report-rate`/s plus a burst of `burst` reports from 50
//    agents at once half-way, `bangs` bangs; p50/p99 per call and the master's RSS;
// 3. every list page (`/v1/computers`, `/v1/partitions` with and without filters, a tree,
//    `/v1/bangs`, `/v1/software-releases`, `/v1/summary`, a partition's promises) at the API's
//    largest page, and every dashboard page (each page of the computers and partitions lists
//    at the largest page size): size and time (median / p95 / slowest), while the fleet's
//    heartbeats go on; SPEC §5: each ≤ 1 MiB and ≤ 500 ms (judged on the slowest request);
// 4. grows the fleet to `partitions-total` partitions through the API (same master, same
//    store) and pages through `GET /v1/partitions?limit=1000`, checking each partition
//    appears exactly once; the dashboard's first pages and the summary at that size.
// The machine's conditions are measured: the CPU time the master, this process and every
// other process used during the load (from /proc), and the load average.
// --profile DIR runs the master with `node --cpu-prof --cpu-prof-dir DIR` (written when it stops).
// --append writes the figures into docs/benchmarks.md (replacing this bench's section).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
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
    'burst-agents': { type: 'string', default: '50' },
    bangs: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '10' },
    note: { type: 'string', default: '' },
    profile: { type: 'string', default: '' },
    append: { type: 'boolean', default: false },
  },
});
const COMPUTERS = Number(values.computers);
const PER = Number(values['per-computer']);
const SECONDS = Number(values.seconds);
const TOTAL = Number(values['partitions-total']);
const REPORT_RATE = Number(values['report-rate']);
const BURST = Number(values.burst);
const BURST_AGENTS = Number(values['burst-agents']);
const BANGS = Number(values.bangs);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const TREE = 10;
/** Each computer heartbeats once a minute: the fleet's rate is COMPUTERS / 60 per second. */
const HB_GAP_MS = 60_000 / COMPUTERS;
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
  const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', resolve(values.profile)] : [];
  const child = spawn(process.execPath, [...profile, cli, 'master', '--port', '0', '--data-dir', dataDir], {
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

// ------------------------------------------------------------------------------------------ machine conditions

/** CPU time (ms) used since boot by all CPUs, by the master process and by this process. */
interface CpuSnapshot {
  wallMs: number;
  busyMs: number;
  masterMs: number;
  selfMs: number;
  /** Time the master's main (JavaScript) thread was runnable but waiting for a core (/proc/<pid>/task/<pid>/schedstat). */
  masterWaitMs: number;
}
const TICK_MS = 10; // USER_HZ = 100 on Linux (`getconf CLK_TCK`)

function cpuSnapshot(masterPid: number | undefined): CpuSnapshot {
  // cpu  user nice system idle iowait irq softirq steal …: busy = all but idle and iowait
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const busy = [0, 1, 2, 5, 6, 7].reduce((sum, i) => sum + (f[i] ?? 0), 0);
  let master = 0;
  try {
    const st = readFileSync(`/proc/${masterPid}/stat`, 'utf8');
    const fields = st.slice(st.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    master = Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    // the master is gone: counted as 0
  }
  let wait = 0;
  try {
    // on-CPU ns, run-queue wait ns, timeslices
    wait = Number(readFileSync(`/proc/${masterPid}/task/${masterPid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    // no schedstat (kernel without CONFIG_SCHEDSTATS) or the master is gone: counted as 0
  }
  const self = process.cpuUsage();
  return { wallMs: performance.now(), busyMs: busy * TICK_MS, masterMs: master * TICK_MS, selfMs: (self.user + self.system) / 1000, masterWaitMs: wait };
}

/** Cores used on average between two snapshots: by the master, by this load generator, by every other process. */
function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): { master: number; bench: number; others: number; idle: number; masterWait: number } {
  const wall = b.wallMs - a.wallMs;
  const master = (b.masterMs - a.masterMs) / wall;
  const bench = (b.selfMs - a.selfMs) / wall;
  const busy = (b.busyMs - a.busyMs) / wall;
  return { master, bench, others: Math.max(0, busy - master - bench), idle: Math.max(0, availableParallelism() - busy), masterWait: (b.masterWaitMs - a.masterWaitMs) / wall };
}
const cores = (v: number) => v.toFixed(2);
const cpuLine = (c: ReturnType<typeof cpuBetween>) =>
  `master ${cores(c.master)}, load generator ${cores(c.bench)}, other processes ${cores(c.others)}, idle ${cores(c.idle)} (cores, on average); the master's JavaScript thread waited for a core ${(c.masterWait * 1000).toFixed(0)} ms per second`;

// ------------------------------------------------------------------------------------------ load

const CALL_TYPES = ['heartbeat', 'report', 'report (burst)', 'bang', 'heartbeat (while lists are read)', 'heartbeat (while the grown fleet is read)'] as const;
type CallType = (typeof CALL_TYPES)[number];
const latencies = Object.fromEntries(CALL_TYPES.map((t) => [t, [] as number[]])) as Record<CallType, number[]>;
const errors = Object.fromEntries(CALL_TYPES.map((t) => [t, [] as string[]])) as Record<CallType, string[]>;
/** Heartbeat latencies of the load phase while the burst runs, and outside it. */
const burstHeartbeats: number[] = [];
const quietHeartbeats: number[] = [];
/** Every heartbeat of the load phase: when it was sent, how long it took. */
const timedHeartbeats: { at: number; d: number }[] = [];
let bursting = false;
/** When the burst ran (performance.now()). */
const burstSpan = { from: Number.NaN, to: Number.NaN };
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
    if (type === 'heartbeat') {
      (bursting ? burstHeartbeats : quietHeartbeats).push(d);
      timedHeartbeats.push({ at: t, d });
    }
  } catch (err) {
    errors[type].push(String((err as Error).message ?? err).slice(0, 200));
  } finally {
    inFlight--;
  }
}

/**
 * Heartbeats at the fleet's rate (computer `k mod n` at k × 60 s / n) until the returned
 * function is called; it waits for the calls in flight and returns how many were sent.
 */
function backgroundHeartbeats(type: CallType, beat: (c: number) => Promise<unknown>): () => Promise<number> {
  let stopped = false;
  let k = 0;
  const t0 = performance.now();
  const loop = (async () => {
    while (!stopped) {
      const wait = t0 + k * HB_GAP_MS - performance.now();
      if (wait > 0) {
        await sleep(Math.min(wait, 100));
        continue;
      }
      const c = k++ % COMPUTERS;
      void timed(type, () => beat(c));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    while (inFlight > 0) await sleep(20);
    return k;
  };
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
  let lastLog = performance.now();
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
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      log(`${what}: ${stat.pages} pages, ${n(stat.ids.length)} items so far`);
    }
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
  let lastLog = performance.now();
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
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      log(`${what}: ${stat.pages} pages so far`);
    }
  }
  return stat;
}

/** SPEC §5: every page ≤ 1 MiB and ≤ 500 ms — judged on the largest and the slowest page seen, not a percentile. */
const pageOk = (s: PageStat) => !s.error && s.maxBytes <= MiB && Math.max(0, ...s.times) <= 500;
const statRow = (s: PageStat) =>
  s.error
    ? `| ${s.what} | – | – | – | – | – | – | failed: ${s.error.replace(/\|/g, '/')} |`
    : `| ${s.what} | ${s.pages} | ${s.times.length} | ${kib(s.maxBytes)} | ${ms(pct(s.times, 0.5))} ms | ${ms(pct(s.times, 0.95))} ms | ${ms(Math.max(0, ...s.times))} ms | ${pageOk(s) ? 'yes' : '**no**'} |`;
const statTable = (rows: PageStat[]) =>
  ['| page | pages | requests | largest | median | p95 | slowest | ≤ 1 MiB and ≤ 500 ms, every request |', '|---|---|---|---|---|---|---|---|', ...rows.map(statRow)].join('\n');

// ------------------------------------------------------------------------------------------ run

const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-fleet-'));
const master = await startMaster(dataDir);
const lines: string[] = [];
const cpuRun0 = cpuSnapshot(master.child.pid);
/** The 1-minute load average, every 10 s of the run. */
const loads: number[] = [loadavg()[0] ?? 0];
const loadSampler = setInterval(() => loads.push(loadavg()[0] ?? 0), 10_000);

/** How, where and in what conditions the figures were measured. */
function conditions(cmd: string): string {
  const run = cpuBetween(cpuRun0, cpuSnapshot(master.child.pid));
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  return [
    `\`${cmd}\` on ${new Date().toISOString().slice(0, 10)}: the whole run took ${minutes} min. Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? '?'});`,
    `the master (\`node dist/vigil.mjs master\` on a temp data dir: embedded dynalite on LevelDB, in-process queue, minute sweep) and this load generator share the cores.`,
    `CPU over the whole run: ${cpuLine(run)}; 1-minute load average ${loads.length > 0 ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (median ${pct(loads, 0.5).toFixed(1)})` : '–'}.`,
    ...(values.note ? [`Other work: ${values.note}`] : []),
  ].join('\n');
}
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
  const cpuLoad0 = cpuSnapshot(master.child.pid);
  const t0 = performance.now();
  const until = t0 + SECONDS * 1000;
  let reportSeq = 0;
  const reportOf = (type: CallType) => {
    const i = reportSeq++;
    const c = (i * 7919) % COMPUTERS; // spread over the fleet
    const k = i % PER;
    // one report in 50 is a failure (the partition turns red until its next report)
    void timed(type, () => as(c).report(pid(c, k), report(pid(c, k), `${pid(c, k)}-r${i + 1}`, i % 50 !== 7)));
  };
  /** Per 15 s of the load: the heartbeats sent in it, and the CPU (who used the cores, how long the master waited for one). */
  const windows: { from: number; to: number; cpu: ReturnType<typeof cpuBetween> }[] = [];
  let windowStart = cpuLoad0;
  const progress = setInterval(() => {
    const snap = cpuSnapshot(master.child.pid);
    const w = { from: windowStart.wallMs, to: snap.wallMs, cpu: cpuBetween(windowStart, snap) };
    windows.push(w);
    windowStart = snap;
    const beats = timedHeartbeats.filter((h) => h.at >= w.from && h.at < w.to).map((h) => h.d);
    log(`load: ${n(latencies.heartbeat.length)} heartbeats (last 15 s: p99 ${ms(pct(beats, 0.99))} ms), ${n(latencies.report.length + latencies['report (burst)'].length)} reports, ${latencies.bang.length} bangs, in flight ${inFlight}, RSS ${n(master.rssKiB().rss)} KiB; last 15 s CPU: ${cpuLine(w.cpu)}`);
  }, 15_000);
  const burst = async () => {
    await sleep(Math.max(0, t0 + (SECONDS * 1000) / 2 - performance.now()));
    if (BURST <= 0) return;
    log(`burst: ${n(BURST)} reports from ${BURST_AGENTS} agents at once`);
    bursting = true;
    const t = performance.now();
    burstSpan.from = t;
    await mapLimit(
      Array.from({ length: BURST }, (_, i) => i),
      BURST_AGENTS,
      async () => {
        const i = reportSeq++;
        const c = (i * 7919) % COMPUTERS;
        const k = i % PER;
        await timed('report (burst)', () => as(c).report(pid(c, k), report(pid(c, k), `${pid(c, k)}-r${i + 1}`)));
      },
    );
    bursting = false;
    burstSpan.to = performance.now();
    log(`burst: done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };
  const [heartbeats, reports] = await Promise.all([
    paced(t0, HB_GAP_MS, until, (k) => {
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
  const cpuLoad = cpuBetween(cpuLoad0, cpuSnapshot(master.child.pid));
  clearInterval(progress);
  clearInterval(sampler);
  const rssNow = master.rssKiB();
  log(`load done: ${n(heartbeats)} heartbeats (${(heartbeats / elapsed).toFixed(1)}/s), ${n(reports)} reports + ${n(BURST)} burst, ${BANGS} bangs in ${elapsed.toFixed(0)} s; max in flight ${maxInFlight}; CPU: ${cpuLine(cpuLoad)}`);
  const hbP99 = pct(latencies.heartbeat, 0.99);
  const quietP99 = pct(quietHeartbeats, 0.99);
  const lastSnap = cpuSnapshot(master.child.pid);
  if (lastSnap.wallMs - windowStart.wallMs > 1000) windows.push({ from: windowStart.wallMs, to: lastSnap.wallMs, cpu: cpuBetween(windowStart, lastSnap) });
  const windowRows = windows.map((w) => {
    const beats = timedHeartbeats.filter((h) => h.at >= w.from && h.at < w.to).map((h) => h.d);
    const label = `${Math.max(0, (w.from - t0) / 1000).toFixed(0)}–${((w.to - t0) / 1000).toFixed(0)} s${burstSpan.from < w.to && burstSpan.to > w.from ? ' (burst)' : ''}`;
    return `| ${label} | ${n(beats.length)} | ${ms(pct(beats, 0.5))} ms | ${ms(pct(beats, 0.99))} ms | ${ms(Math.max(0, ...beats))} ms | ${cores(w.cpu.master)} | ${cores(w.cpu.others)} | ${cores(w.cpu.idle)} | ${(w.cpu.masterWait * 1000).toFixed(0)} ms |`;
  });

  // 3. every list page and dashboard page, while the fleet's heartbeats go on
  const stopListBeats = backgroundHeartbeats('heartbeat (while lists are read)', (c) => as(c).heartbeat(cid(c), { agentVersion: 'fleet-bench' }));
  const cpuLists0 = cpuSnapshot(master.child.pid);
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
    ['GET /v1/software-releases?limit=1000', '/v1/software-releases?limit=1000', 'softwareReleases', 'softwareReleaseId'],
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
  const listBeats = await stopListBeats();
  const cpuLists = cpuBetween(cpuLists0, cpuSnapshot(master.child.pid));
  log(`lists and dashboard read; ${n(listBeats)} heartbeats meanwhile (p99 ${ms(pct(latencies['heartbeat (while lists are read)'], 0.99))} ms); CPU: ${cpuLine(cpuLists)}`);
  for (const t of CALL_TYPES) if (errors[t].length) log(`${t}: ${errors[t].length} errors (first: ${errors[t][0]})`);
  const callRow = (what: string, xs: number[], errs: number | string) =>
    `| ${what} | ${n(xs.length)} | ${errs} | ${ms(pct(xs, 0.5))} ms | ${ms(pct(xs, 0.99))} ms | ${ms(Math.max(0, ...xs))} ms |`;
  const callRows = [
    ...(['heartbeat', 'report', 'report (burst)', 'bang'] as const).map((t) => callRow(t, latencies[t], errors[t].length)),
    callRow('heartbeat outside the burst', quietHeartbeats, '–'),
    callRow('heartbeat during the burst', burstHeartbeats, '–'),
    callRow('heartbeat while the lists and dashboard pages below are read', latencies['heartbeat (while lists are read)'], errors['heartbeat (while lists are read)'].length),
  ];

  lines.push(
    `### Fleet at the fleet's rate: ${n(COMPUTERS)} computers × ${PER} partitions, ${SECONDS} s`,
    '',
    `Registration through the typed client (concurrency ${CONCURRENCY}): ${n(COMPUTERS)} computers in ${(regComputers / 1000).toFixed(1)} s, ${n(partitions)} partitions in ${(regPartitions / 1000).toFixed(1)} s, a heartbeat each and one report per partition in ${(greenMs / 1000).toFixed(1)} s.`,
    `Load: ${n(heartbeats)} heartbeats in ${elapsed.toFixed(0)} s (${(heartbeats / elapsed).toFixed(1)}/s, each computer once a minute, staggered), ${n(reports)} reports at ${REPORT_RATE}/s (10 promises each) plus a burst of ${n(BURST)} reports from ${BURST_AGENTS} agents at once half-way, ${BANGS} bangs (each to a tree of ${TREE}). Latencies as the client sees them (HTTP on 127.0.0.1, response validated).`,
    '',
    '| call | count | errors | p50 | p99 | max |',
    '|---|---|---|---|---|---|',
    ...callRows,
    '',
    `SPEC §5 heartbeat p99 ≤ 50 ms under the fleet's rate: **${ms(hbP99)} ms** over the whole load (${hbP99 <= 50 ? 'met' : '**missed**'}), ${ms(quietP99)} ms outside the burst (${quietP99 <= 50 ? 'met' : '**missed**'}).`,
    `CPU during the load: ${cpuLine(cpuLoad)}; while the pages were read: ${cpuLine(cpuLists)}.`,
    '',
    'Heartbeats and CPU per 15 s of the load ("other processes": everything on the machine but the master and the load generator; "waited": run-queue time of the master\'s JavaScript thread, per second):',
    '',
    '| window | heartbeats | p50 | p99 | max | master (cores) | other processes (cores) | idle (cores) | master waited / s |',
    '|---|---|---|---|---|---|---|---|---|',
    ...windowRows,
    '',
    `Master RSS: ${n(Math.round(Math.max(0, ...rss) / 1024))} MiB at most during the load (${n(Math.round(rssNow.rss / 1024))} MiB after it; peak of the process ${n(Math.round(rssNow.hwm / 1024))} MiB).`,
    '',
    `API lists (${n(partitions)} partitions; ${parts.pages} page(s) of 1,000 hold ${n(parts.ids.length)} partitions, ${seenOnce ? 'each exactly once' : '**not each exactly once**'}):`,
    '',
    statTable(api),
    '',
    `Dashboard pages over HTTP with a session (${ROUNDS} rounds each after one warm-up; "every page" rows follow the Next links once). Both tables were measured one request at a time while the fleet's heartbeats went on (${(COMPUTERS / 60).toFixed(1)}/s):`,
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
    const bigBeatsType = 'heartbeat (while the grown fleet is read)';
    const stopBigBeats = backgroundHeartbeats(bigBeatsType, (c) => as(c).heartbeat(cid(c), { agentVersion: 'fleet-bench' }));
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
    await stopBigBeats();
    const bigBeats = latencies[bigBeatsType];
    lines.push(
      '',
      `### ${n(TOTAL)} partitions`,
      '',
      `The same master and store grown by ${n(extra)} partitions (${perComputer} more per computer, in trees of ${TREE}) through \`PUT /v1/partitions/{id}\` in ${(growMs / 1000).toFixed(0)} s (concurrency ${CONCURRENCY}); then \`GET /v1/partitions?limit=1000\` paged through: ${n(all.ids.length)} partitions in ${all.pages} page(s), ${n(unique)} distinct, ${once ? '**each exactly once**' : '**not each exactly once**'}. Master RSS after: ${n(Math.round(master.rssKiB().rss / 1024))} MiB. Measured while the fleet's heartbeats went on: ${n(bigBeats.length)} heartbeats meanwhile, p50 ${ms(pct(bigBeats, 0.5))} ms, p99 ${ms(pct(bigBeats, 0.99))} ms, max ${ms(Math.max(0, ...bigBeats))} ms, ${errors[bigBeatsType].length} errors.`,
      '',
      statTable(big),
    );
    if (!once) process.exitCode = 1;
  }
  if (!seenOnce) process.exitCode = 1;

  const text = lines.join('\n');
  console.log(`\n${conditions(`npx tsx bench/fleet.bench.ts ${process.argv.slice(2).join(' ')}`)}\n\n${text}\n`);
  if (values.append) {
    const file = join(root, 'docs', 'benchmarks.md');
    const cmd = `npm run bench:fleet -- --computers ${COMPUTERS} --per-computer ${PER} --seconds ${SECONDS} --partitions-total ${TOTAL} --append`;
    const title = '## Fleet: heartbeats, lists and dashboard pages at fleet scale (issue 12)';
    const section = `${title}\n\n${conditions(cmd)}\n\n${text}\n`;
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
  clearInterval(loadSampler);
  await master.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
