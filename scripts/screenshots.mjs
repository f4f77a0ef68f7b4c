#!/usr/bin/env node
// Screenshots of every dashboard view from the demo fleet, into docs/img/.
//   npm run build && node scripts/screenshots.mjs [--wait SECONDS] [--min-points N] [--out DIR]
// Starts `node dist/vigil.mjs master --demo` on a free port and a temp data dir, waits
// until the demo agent has reported (a red partition with history), logs in with the
// admin token in the system Chromium (Debian package `chromium`) and shoots each page.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { wait: { type: 'string', default: '120' }, 'min-points': { type: 'string', default: '4' }, out: { type: 'string', default: 'docs/img' } } });
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

const port = await new Promise((res, rej) => {
  const s = createServer();
  s.on('error', rej);
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => res(p));
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
const api = async (path) => {
  const r = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  return r.ok ? r.json() : undefined;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let browser;
try {
  const deadline = Date.now() + Number(values.wait) * 1000;
  mkdirSync(join(root, values.out), { recursive: true });
  while (!(await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false))) {
    if (child.exitCode !== null) throw new Error(`vigil master exited:\n${log}`);
    await sleep(200);
  }
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
  const shoot = async (name, path) => {
    await page.goto(base + path);
    const file = join(root, values.out, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshots: ${path} → ${file}`);
  };

  // 1. Right after the demo agent's first bang, while the tree is red and waiting for its
  //    reprocess: the fleet, the tree and the bang log.
  let banged;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vigil master exited:\n${log}`);
    const parts = (await api('/v1/partitions').catch(() => undefined))?.partitions ?? [];
    const bangs = (await api('/v1/bangs').catch(() => undefined))?.bangs ?? [];
    banged = bangs.length > 0 ? parts.find((p) => p.colour === 'red' && p.reprocess) : undefined;
    if (banged) break;
    if (Date.now() > deadline) {
      console.warn(`screenshots: no bang from the demo agent after ${values.wait} s; shooting what there is`);
      break;
    }
    await sleep(300);
  }
  await shoot('dashboard-fleet', '/');
  await shoot('dashboard-trees', banged ? `/trees/${encodeURIComponent(banged.instanceTreeId)}` : '/trees');
  await shoot('dashboard-bangs', '/bangs');

  // 2. The partition whose promise history has the most failures, once it has a few points.
  let red;
  for (;;) {
    const parts = (await api('/v1/partitions').catch(() => undefined))?.partitions ?? [];
    let best;
    for (const p of parts) {
      const pr = await api(`/v1/partitions/${encodeURIComponent(p.partitionId)}/promises`).catch(() => undefined);
      const failures = (pr?.promises ?? []).reduce((n, x) => n + x.history.filter((h) => h.failed).length, 0);
      const points = Math.max(0, ...(pr?.promises ?? []).map((x) => x.history.length));
      const score = failures * 10 + points + (p.colour === 'red' ? 5 : 0);
      if (points > 0 && (!best || score > best.score)) best = { p, score, failures, points };
    }
    red = best?.p ?? red;
    if (best && best.failures > 0 && best.points >= Number(values['min-points'])) break;
    if (Date.now() > deadline) {
      console.warn(`screenshots: no partition with ${values['min-points']} history points and a failure after ${values.wait} s`);
      break;
    }
    await sleep(2000);
  }
  console.log(`screenshots: partition shown: ${red?.partitionId ?? '(none)'}`);
  const partitionPath = red ? `/partitions/${encodeURIComponent(red.partitionId)}` : '/';
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
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  rmSync(dataDir, { recursive: true, force: true });
}
