// Screenshots of every dashboard view from the demo fleet, into docs/img/.
//   npm run build && npm run screenshots [-- --wait SECONDS --out DIR]   (node --import tsx scripts/screenshots.ts)
// Starts `node dist/vigil.mjs master --demo` on a free port and a temp data dir and, next to
// the demo fleet, seeds through the API (as an agent would report) a second computer
// `shop-computer` with the instance tree `shop`: `shop-api` (two hours of promise history,
// red now) and `shop-web` (green), and the tree `shop-batch`: `shop-cron` (commits every
// monitoring crime; bangs until its quota rejects one). It waits until the demo agent has banged, logs in with the admin
// token in the system Chromium (Debian package `chromium`) and shoots each page:
// fleet, tree and bangs while the demo tree waits for its reprocess, the `shop-api`
// partition (history charts), the crimes, and the partition on a phone.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import { createVigilClient, VigilApiError } from '../protocol/client.ts';
import type { Partition, PromiseReport, ReportKind } from '../protocol/index.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { wait: { type: 'string', default: '120' }, out: { type: 'string', default: 'docs/img' } } });
const chromiumPath = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(chromiumPath)) {
  console.error('screenshots: Chromium is missing: install the Debian package chromium (apt-get install -y chromium)');
  process.exit(1);
}
const cli = join(root, 'dist', 'vigil.mjs');
if (!existsSync(cli)) {
  console.error("screenshots: dist/vigil.mjs is missing: run 'npm run build' first");
  process.exit(1);
}

const port = await new Promise<number>((res, rej) => {
  const s = createServer();
  s.on('error', rej);
  s.listen(0, '127.0.0.1', () => {
    const a = s.address();
    s.close(() => res(typeof a === 'object' && a ? a.port : 0));
  });
});
const dataDir = mkdtempSync(join(tmpdir(), 'vigil-screenshots-'));
const token = `screens-${Date.now().toString(36)}`;
const child = spawn(process.execPath, [cli, 'master', '--demo', '--port', String(port), '--data-dir', dataDir], {
  cwd: dataDir,
  env: { ...process.env, VIGIL_ADMIN_TOKEN: token },
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
});
let log = '';
child.stdout.on('data', (d) => (log += d));
child.stderr.on('data', (d) => (log += d));
const base = `http://127.0.0.1:${port}`;
const admin = createVigilClient({ baseUrl: base, token });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise result of the seeded reports (kind and date default). */
type SeedPromise = Omit<PromiseReport, 'kind' | 'date'> & { kind?: PromiseReport['kind'] };

/** The `shop` tree, reported through the API with dates in the past (see the header). */
async function seedShop() {
  const MIN = 60_000;
  const now = Date.now();
  await admin.putSoftwareRelease('shop-sr', { url: 'https://example.com/software/shop/software.cfg', periodicitySeconds: 86400, bangQuotaPerDay: 2 });
  const registered = await admin.putComputer('shop-computer', { instantiationFrequencySeconds: 86400 });
  const computer = admin.withToken(registered.created ? registered.token.token : (await admin.rotateComputerToken('shop-computer')).token);
  for (const [id, tree] of [['shop-api', 'shop'], ['shop-web', 'shop'], ['shop-cron', 'shop-batch']] as const) {
    await admin.putPartition(id, { computerId: 'shop-computer', instanceTreeId: tree, softwareReleaseId: 'shop-sr' });
  }
  await computer.heartbeat('shop-computer', { agentVersion: '0.1.0' });
  const report = (id: string, i: number, startedAt: number, durationMs: number, promises: SeedPromise[], kind: ReportKind = 'instantiation') =>
    computer.report(id, {
      reportId: `${id}-${i}`,
      kind,
      startedAt: new Date(startedAt).toISOString(),
      durationMs,
      ok: promises.every((p) => !p.failed),
      promises: promises.map((p) => ({ kind: 'anomaly' as const, date: new Date(startedAt + durationMs).toISOString(), ...p })),
    });
  // shop-api: every 10 min for 2 h; the HTTP check slows down, fails twice, recovers, then
  // fails again now (red); the disk check stays kept.
  const httpMs = [120, 135, 128, 140, 190, 260, 2400, 5000, 310, 180, 150, 160, 4800];
  const httpFails = new Set([6, 7, 12]);
  for (const [i, ms] of httpMs.entries()) {
    const at = now - (httpMs.length - 1 - i) * 10 * MIN - 5000;
    await report('shop-api', i, at, 900 + ms, [
      {
        name: 'check-http.json',
        title: 'check-http',
        failed: httpFails.has(i),
        message: httpFails.has(i) ? `GET https://shop.example.com/health: HTTP 502 after ${ms} ms` : `GET https://shop.example.com/health: 200 in ${ms} ms`,
        executionTimeMs: ms,
      },
      { name: 'check-free-disk.json', title: 'check-free-disk', failed: false, message: `free disk ${62 - i}% (min 10%)`, executionTimeMs: 8 + (i % 3) },
    ], i === 0 ? 'instantiation' : 'anomaly');
  }
  // shop-cron: instantiations 70 s long, back to back, every promise at 1 min, a backup
  // check that never passed: every monitoring crime.
  for (let i = 0; i < 4; i++) {
    const at = now - (4 - i) * 90_000;
    await report('shop-cron', i, at, 70_000, [
      { name: 'check-backup', title: 'check-backup', kind: 'test', failed: true, message: '/srv/backup/latest.tar: no such file', executionTimeMs: 40, periodicityMinutes: 1 },
      { name: 'check-cron.json', title: 'check-cron', kind: 'test', failed: false, message: 'cron daemon running', executionTimeMs: 12, periodicityMinutes: 1 },
    ]);
  }
  for (let i = 0; i < 2; i++) {
    await report('shop-web', i, now - (2 - i) * 20 * MIN, 1500, [
      { name: 'check-url-available.json', title: 'check-url-available', kind: 'test', failed: false, message: 'https://shop.example.com/: 200', executionTimeMs: 95 },
    ]);
  }
  // shop-cron bangs until its daily quota (2) rejects the third (429)
  for (let i = 0; i < 3; i++) {
    const bang = { bangId: `shop-cron-bang-${i}`, message: 'Promise check-backup is failing: /srv/backup/latest.tar: no such file', source: i === 2 ? 'manual' : 'promise' } as const;
    await computer.bang('shop-cron', bang).catch((err: unknown) => {
      if (!(err instanceof VigilApiError && err.status === 429)) throw err;
    });
  }
}

let browser: Browser | undefined;
try {
  const deadline = Date.now() + Number(values.wait) * 1000;
  mkdirSync(join(root, values.out), { recursive: true });
  while (!(await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false))) {
    if (child.exitCode !== null) throw new Error(`vigil master exited:\n${log}`);
    await sleep(200);
  }
  await seedShop();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);
  const shoot = async (name: string, path: string) => {
    await page.goto(base + path);
    const file = join(root, values.out, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshots: ${path} → ${file}`);
  };

  // 1. Right after the demo agent's first bang, while the tree is red and waiting for its
  //    reprocess: the fleet, the tree and the bang log.
  let banged: Partition | undefined;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vigil master exited:\n${log}`);
    const parts = (await admin.listPartitions().catch(() => undefined))?.partitions ?? [];
    const bangs = (await admin.listBangs().catch(() => undefined))?.bangs ?? [];
    const demoBang = bangs.some((b) => b.instanceTreeId === 'demo-tree' && b.accepted);
    banged = demoBang ? parts.find((p) => p.instanceTreeId === 'demo-tree' && p.colour === 'red' && p.reprocess) : undefined;
    if (banged) break;
    if (Date.now() > deadline) {
      console.warn(`screenshots: no bang from the demo agent after ${values.wait} s; shooting what there is`);
      break;
    }
    await sleep(300);
  }
  await shoot('dashboard-fleet', '/');
  await shoot('dashboard-partitions', '/partitions');
  await shoot('dashboard-bangs', '/bangs');

  // 2. A partition with a long promise history (charts), the monitoring crimes.
  const partitionPath = '/partitions/shop-api';
  await shoot('dashboard-partition', partitionPath);
  await shoot('dashboard-crimes', '/crimes');
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(base + partitionPath);
  await phone.screenshot({ path: join(root, values.out, 'dashboard-phone.png') });
  console.log(`screenshots: phone → ${join(root, values.out, 'dashboard-phone.png')}`);
} finally {
  await browser?.close();
  try {
    process.kill(-(child.pid ?? 0), 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  rmSync(dataDir, { recursive: true, force: true });
}
