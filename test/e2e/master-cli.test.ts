// `vigil master` as a user runs it: the built CLI on a temporary data dir, driven over
// HTTP, stopped with SIGTERM and restarted with its data still there.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ComputerToken, HeartbeatResponse } from '../../protocol/index.ts';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/vigil.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-master-'));
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(cli)) execFileSync('node', ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function startMaster(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string; token: string; out: () => string }> {
  const child = spawn('node', [cli, 'master', '--port', '0', '--data-dir', dir, ...args], {
    cwd: root,
    env: { ...process.env, VIGIL_ADMIN_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`vigil master did not start: ${out} ${err}`)), 30_000);
    const check = () => {
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      const token = /admin token: (\S+)/.exec(out)?.[1];
      if (url && token) {
        clearTimeout(timer);
        res({ child, url, token, out: () => out + err });
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => rej(new Error(`vigil master exited ${code}: ${out} ${err}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((res) => {
    child.once('exit', (code) => res(code));
    child.kill('SIGTERM');
  });
}

async function call(url: string, method: string, path: string, token: string, body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as unknown };
}

it('runs, serves the API, stops cleanly, and restarts with its data', async () => {
  const m1 = await startMaster([]);
  expect((await fetch(`${m1.url}/healthz`)).status).toBe(200);
  const doc = (await (await fetch(`${m1.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  expect(Object.keys(doc.paths)).toContain('/v1/partitions/{partitionId}/bang');
  expect((await call(m1.url, 'PUT', '/v1/software-releases/e2e-sr', m1.token, { url: 'https://example.com/sr' })).status).toBe(201);
  const comp = await call(m1.url, 'PUT', '/v1/computers/e2e-c', m1.token, {});
  expect(comp.status).toBe(201);
  expect((await call(m1.url, 'PUT', '/v1/partitions/e2e-p', m1.token, { computerId: 'e2e-c', instanceTreeId: 'e2e-t', softwareReleaseId: 'e2e-sr' })).status).toBe(201);
  const computerToken = ComputerToken.parse(comp.body).token;
  const hb = await call(m1.url, 'POST', '/v1/computers/e2e-c/heartbeat', computerToken, { agentVersion: 'e2e' });
  expect(hb.status).toBe(200);
  expect(HeartbeatResponse.parse(hb.body).partitions.map((p) => p.partitionId)).toEqual(['e2e-p']);
  expect(await stop(m1.child)).toBe(0);

  const m2 = await startMaster([]);
  expect(m2.token).toBe(m1.token);
  const c = await call(m2.url, 'GET', '/v1/computers/e2e-c', m2.token);
  expect(c.body).toMatchObject({ computerId: 'e2e-c', agentVersion: 'e2e', colour: 'green' });
  expect((await call(m2.url, 'POST', '/v1/computers/e2e-c/heartbeat', computerToken, { agentVersion: 'e2e' })).status).toBe(200);
  // The admin CLI, as a separate process.
  const out = execFileSync('node', [cli, 'admin', '--master', m2.url, 'partition', 'list'], { cwd: root, env: { ...process.env, VIGIL_ADMIN_TOKEN: m2.token } }).toString();
  expect(out).toContain('e2e-p');
  expect(await stop(m2.child)).toBe(0);

  // VIGIL_ADMIN_TOKEN wins.
  const m3 = await startMaster([], { VIGIL_ADMIN_TOKEN: 'from-env-token' });
  expect(m3.token).toBe('from-env-token');
  expect((await call(m3.url, 'GET', '/v1/computers', 'from-env-token')).status).toBe(200);
  expect(await stop(m3.child)).toBe(0);
});

it('bad usage exits 2 with a message', () => {
  for (const args of [['master', '--port', 'abc'], ['master', '--bogus'], ['admin', 'frobnicate']]) {
    let code = 0;
    let stderr = '';
    try {
      execFileSync('node', [cli, ...args], { cwd: root, stdio: 'pipe', env: { ...process.env, VIGIL_ADMIN_TOKEN: 'x' } });
    } catch (e) {
      code = (e as { status: number }).status;
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(code, args.join(' ')).toBe(2);
    expect(stderr.length).toBeGreaterThan(0);
  }
});
