// Helpers of the dashboard e2e test and screenshots: the system Chromium driven by
// playwright-core, and a real `node dist/vigil.mjs master --demo` on a temp data dir.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { createVigilClient, type VigilClient } from '../../protocol/client.ts';
import { freePort } from './global-setup.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Debian `chromium` binary, or an error naming the package to install. */
export function chromiumPath(): string {
  const candidates = [process.env['VIGIL_CHROMIUM'], '/usr/bin/chromium'].filter((p): p is string => !!p);
  for (const p of candidates) if (existsSync(p)) return p;
  throw new Error(
    'the dashboard e2e tests need Chromium: install the Debian package chromium ' +
      '(apt-get install -y chromium), or set VIGIL_CHROMIUM to a Chromium binary',
  );
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}


/** dist/vigil.mjs, built once when missing (`npm run build` / `npm ci` normally did it). */
export function builtCli(): string {
  const cli = join(repoRoot, 'dist', 'vigil.mjs');
  if (!existsSync(cli)) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'inherit' });
  return cli;
}

export interface RunningMaster {
  url: string;
  adminToken: string;
  dataDir: string;
  output: () => string;
  /** Admin API call (JSON), for exact statuses. */
  admin: (method: string, path: string, body?: unknown) => Promise<{ status: number; json: unknown }>;
  /** The typed client with the admin token. */
  client: VigilClient;
  stop: () => Promise<void>;
}

/** Starts `vigil master --demo` (the demo fleet) on a free port and a temp data dir. */
export async function startDemoMaster(opts: { demo?: boolean; env?: Record<string, string> } = {}): Promise<RunningMaster> {
  const cli = builtCli();
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-test-dashboard-'));
  const adminToken = `dash-admin-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const args = [cli, 'master', '--port', String(port), '--data-dir', dataDir];
  if (opts.demo !== false) args.push('--demo');
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: dataDir,
    env: { ...process.env, ...opts.env, VIGIL_ADMIN_TOKEN: adminToken },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vigil master exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`vigil master did not answer /healthz within 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const client = createVigilClient({ baseUrl: url, token: adminToken });
  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await client.raw(method, path, { body });
    return { status: r.status, json: r.body };
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, adminToken, dataDir, output: () => out, admin, client, stop };
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
