// Issue 10, item 3: `vigil master` (the built CLI) with its data dir on a real, small
// filesystem (a tmpfs of a few MiB, mounted by the test: it needs root with
// CAP_SYS_ADMIN, as CI on Debian runs) that fills up. Writes must answer 503 while reads
// keep working and the process stays up; once the filesystem grows, writes work again and
// every report acknowledged with 202 is still there, also after a restart. Start-up on an
// unusable data dir (full, read-only, not a directory) prints one line and exits non-zero.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/vigil.mjs');
const base = mkdtempSync(join(tmpdir(), 'vigil-e2e-disk-'));
const ADMIN = 'disk-admin-token-0123456789abcdef';
const children: ChildProcess[] = [];
const mounts: string[] = [];

function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  mounts.push(dir);
}
const remount = (dir: string, opts: string) => execFileSync('mount', ['-o', `remount,${opts}`, dir], { stdio: 'pipe' });

/** Fills the filesystem of `dir` with one file until ENOSPC. */
function fill(dir: string): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
  // the last partial blocks too
  try {
    for (;;) writeSync(fd, Buffer.alloc(512, 1));
  } catch {
    // full
  }
  closeSync(fd);
}

beforeAll(() => {
  if (!existsSync(cli)) execFileSync('node', ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  const probe = join(base, 'probe');
  try {
    mountTmpfs(probe, '1m');
  } catch (e) {
    throw new Error(
      `this test fills a real filesystem: it needs to mount a small tmpfs, which takes root with CAP_SYS_ADMIN (uid ${process.getuid?.()}); ` +
        `'mount -t tmpfs' failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`,
    );
  }
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'pipe' });
    } catch {
      // already gone
    }
  }
  rmSync(base, { recursive: true, force: true });
});

interface Master {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function run(dataDir: string): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [cli, 'master', '--port', '0', '--data-dir', dataDir], {
    cwd: root,
    env: { ...process.env, VIGIL_ADMIN_TOKEN: ADMIN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => child.once('exit', (code) => res({ code, stdout, stderr })));
  return { child, done };
}

async function start(dataDir: string): Promise<Master> {
  const { child, done } = run(dataDir);
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const url = await Promise.race([
    new Promise<string>((res) => {
      const check = () => {
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) res(m[1]!);
      };
      child.stdout?.on('data', check);
    }),
    done.then((r) => {
      throw new Error(`vigil master exited ${r.code}: ${r.stdout}${r.stderr}`);
    }),
  ]);
  return { child, url, output: () => out };
}

function stop(m: Master): Promise<number | null> {
  return new Promise((res) => {
    if (m.child.exitCode !== null) return res(m.child.exitCode);
    m.child.once('exit', (code) => res(code));
    m.child.kill('SIGTERM');
  });
}

async function call(url: string, method: string, path: string, token: string, body?: unknown) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text, retryAfter: r.headers.get('retry-after') };
}

/** A report of 20 promises with 4,000-character messages (~ 85 KB written). */
function bigReport(reportId: string) {
  const at = new Date().toISOString();
  return {
    reportId,
    kind: 'anomaly',
    startedAt: at,
    durationMs: 10,
    ok: true,
    promises: Array.from({ length: 20 }, (_, k) => ({
      name: `p${k}.json`,
      title: `p${k}`,
      kind: 'anomaly',
      failed: false,
      message: `${reportId} `.padEnd(4000, 'x'),
      date: at,
      executionTimeMs: 1,
    })),
  };
}

describe('a full disk under a running master', () => {
  it('writes answer 503 while reads work and the process stays up; with space again writes work and every 202 is kept', async () => {
    const mnt = join(base, 'full');
    mountTmpfs(mnt, '2m');
    const dataDir = join(mnt, 'data');
    let m = await start(dataDir);
    expect((await call(m.url, 'PUT', '/v1/software-releases/sr', ADMIN, { url: 'https://example.com/sr.cfg' })).status).toBe(201);
    const created = await call(m.url, 'PUT', '/v1/computers/comp', ADMIN, {});
    expect(created.status).toBe(201);
    const token = created.json.token as string;
    expect((await call(m.url, 'PUT', '/v1/partitions/p1', ADMIN, { computerId: 'comp', instanceTreeId: 't', softwareReleaseId: 'sr' })).status).toBe(201);
    const login = (url: string) =>
      fetch(`${url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${ADMIN}&next=%2F` });
    const session = (await login(m.url)).headers.get('set-cookie')!.split(';')[0]!;

    const acked: string[] = [];
    const refused: { status: number; json: any; retryAfter: string | null }[] = [];
    for (let i = 0; i < 200 && refused.length < 3; i++) {
      const r = await call(m.url, 'POST', '/v1/partitions/p1/reports', token, bigReport(`r${i}`));
      expect([202, 503], `report ${i}: ${r.status} ${r.text}`).toContain(r.status);
      if (r.status === 202) acked.push(`r${i}`);
      else refused.push(r);
    }
    expect(refused.length, 'the disk never filled').toBe(3);
    expect(acked.length).toBeGreaterThan(3);
    expect(refused[0]!.json).toMatchObject({ error: 'unavailable' });
    expect(refused[0]!.json.message).toMatch(/no space left on device/i);
    expect(Number(refused[0]!.retryAfter)).toBeGreaterThan(0);
    // still up; reads work
    expect(m.child.exitCode).toBeNull();
    expect((await call(m.url, 'GET', '/healthz', ADMIN)).status).toBe(200);
    const p = await call(m.url, 'GET', '/v1/partitions/p1', ADMIN);
    expect(p.status).toBe(200);
    expect(p.json.lastReport.reportId).toBe(acked.at(-1));
    expect((await call(m.url, 'GET', '/v1/partitions/p1/promises', ADMIN)).status).toBe(200);
    expect((await call(m.url, 'GET', '/v1/computers', ADMIN)).status).toBe(200);
    const hb = await call(m.url, 'POST', '/v1/computers/comp/heartbeat', token, { agentVersion: 'disk-test' });
    expect([200, 503]).toContain(hb.status);
    // the dashboard: pages still open with a session; a new login cannot be stored (an HTML 503)
    const fleet = await fetch(`${m.url}/partitions/p1`, { headers: { cookie: session } });
    expect(fleet.status).toBe(200);
    expect(await fleet.text()).toContain('p1');
    const refusedLogin = await login(m.url);
    expect(refusedLogin.status).toBe(503);
    expect(await refusedLogin.text()).toMatch(/The master is unavailable[\s\S]*no space left on device/i);

    // more space: writes work again (the master reopens its store by itself)
    remount(mnt, 'size=32m');
    let after = '';
    const deadline = Date.now() + 60_000;
    for (let i = 0; !after; i++) {
      const r = await call(m.url, 'POST', '/v1/partitions/p1/reports', token, bigReport(`after${i}`));
      expect([202, 503], r.text).toContain(r.status);
      if (r.status === 202) after = `after${i}`;
      else if (Date.now() > deadline) throw new Error(`writes still refused 60 s after the disk grew: ${r.text}`);
      else await new Promise((res) => setTimeout(res, 250));
    }
    // every page of the history (big reports: a page holds about 1 MiB of them)
    const listed = async (url: string) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = (await call(url, 'GET', `/v1/partitions/p1/promises${cursor ? `?cursor=${cursor}` : ''}`, ADMIN)).json as { reports: { reportId: string }[]; nextCursor: string | null };
        ids.push(...page.reports.map((r) => r.reportId));
        cursor = page.nextCursor;
      } while (cursor);
      return ids;
    };
    expect(await listed(m.url)).toEqual(expect.arrayContaining([...acked, after]));
    expect(m.child.exitCode).toBeNull();

    // and after a restart
    expect(await stop(m)).toBe(0);
    m = await start(dataDir);
    expect(await listed(m.url)).toEqual(expect.arrayContaining([...acked, after]));
    expect((await call(m.url, 'GET', '/v1/partitions/p1', ADMIN)).json.lastReport.reportId).toBe(after);
    expect(await stop(m)).toBe(0);
  });
});

describe('start-up on an unusable data dir: one line, exit code 1', () => {
  const failsWith = async (dataDir: string, pattern: RegExp) => {
    const { done } = run(dataDir);
    const r = await done;
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^vigil master: /);
    expect(lines[0]).toContain(dataDir);
    expect(lines[0]).toMatch(pattern);
    expect(r.stdout).not.toContain('listening');
  };

  it('a full disk (fresh, and holding a store already), a read-only one, a file', async () => {
    const mnt = join(base, 'startup');
    mountTmpfs(mnt, '4m');
    // a store written once, then the disk filled up while it was stopped
    const dataDir = join(mnt, 'data');
    const m = await start(dataDir);
    expect((await call(m.url, 'PUT', '/v1/computers/c1', ADMIN, {})).status).toBe(201);
    expect(await stop(m)).toBe(0);
    fill(mnt);
    await failsWith(dataDir, /no space left on device/i);
    await failsWith(join(mnt, 'fresh'), /no space left on device/i);
    // read-only
    rmSync(join(mnt, 'filler'));
    remount(mnt, 'ro');
    await failsWith(dataDir, /read-only/i);
    remount(mnt, 'rw');
    // not a directory
    const file = join(mnt, 'a-file');
    writeFileSync(file, 'x');
    await failsWith(file, /not a directory/i);
  });
});
