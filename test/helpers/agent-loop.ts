// Helpers of the agent-loop e2e tests: spawn the built CLI (`node dist/vigil.mjs master` /
// `agent`), talk to the master's admin API, build partitions on disk.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './global-setup.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const VIGIL = join(ROOT, 'dist', 'vigil.mjs');

export { freePort };

export function tempDir(prefix = 'vigil-al-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 40_000, // generous: only a stuck process waits this long; a loaded machine is slow
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** SIGTERM (or the given signal), wait for exit */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnVigil(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [VIGIL, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  // 'close': the process exited AND its output was read to the end (or, if a grandchild
  // keeps the pipes open, 1 s after the exit)
  const exited = new Promise<number | null>((res) => {
    child.on('close', (code) => res(code));
    child.on('exit', (code) => setTimeout(() => res(code), 1000).unref());
  });
  return {
    child,
    output: () => out,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export const ADMIN_TOKEN = 'agent-loop-test-admin-token';

export interface MasterProc extends Proc {
  url: string;
  port: number;
  dataDir: string;
}

export async function startMaster(opts: { dataDir: string; port?: number }): Promise<MasterProc> {
  const port = opts.port ?? (await freePort());
  const p = spawnVigil(['master', '--port', String(port), '--data-dir', opts.dataDir], {
    VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `master on ${url}\n${p.output()}`,
    async () => {
      if (p.child.exitCode !== null) throw new Error(`master exited: ${p.output()}`);
      const r = await fetch(`${url}/healthz`);
      return r.ok;
    },
    60_000, // a loaded 2-core machine can take 10 s and more to boot it
    100,
  );
  return { ...p, url, port, dataDir: opts.dataDir };
}

export async function api<T = unknown>(url: string, method: string, path: string, body?: unknown, token = ADMIN_TOKEN): Promise<{ status: number; body: T }> {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Register an SR, a computer (returns its token file) and partitions in one tree. */
export async function seedFleet(
  url: string,
  opts: {
    dir: string;
    computerId: string;
    treeId: string;
    partitions: string[];
    srId?: string;
    bangQuotaPerDay?: number;
    /** the SR's periodicitySeconds: the master's freshness limit of its partitions' reports */
    periodicitySeconds?: number;
  },
): Promise<{ tokenFile: string; token: string }> {
  const srId = opts.srId ?? 'sr-test';
  const sr = await api(url, 'PUT', `/v1/software-releases/${srId}`, {
    url: 'https://example.invalid/sr.cfg',
    ...(opts.bangQuotaPerDay !== undefined ? { bangQuotaPerDay: opts.bangQuotaPerDay } : {}),
    ...(opts.periodicitySeconds !== undefined ? { periodicitySeconds: opts.periodicitySeconds } : {}),
  });
  if (sr.status >= 300) throw new Error(`PUT sr: ${sr.status} ${JSON.stringify(sr.body)}`);
  const c = await api<{ token: string }>(url, 'PUT', `/v1/computers/${opts.computerId}`, {});
  if (c.status !== 201) throw new Error(`PUT computer: ${c.status} ${JSON.stringify(c.body)}`);
  for (const p of opts.partitions) {
    const r = await api(url, 'PUT', `/v1/partitions/${p}`, {
      computerId: opts.computerId,
      instanceTreeId: opts.treeId,
      softwareReleaseId: srId,
    });
    if (r.status >= 300) throw new Error(`PUT partition ${p}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const tokenFile = join(opts.dir, `${opts.computerId}.token`);
  writeFileSync(tokenFile, `${c.body.token}\n`, { mode: 0o600 });
  chmodSync(tokenFile, 0o600);
  return { tokenFile, token: c.body.token };
}

/**
 * Write an executable atomically (temp file + rename): an agent running it meanwhile sees
 * the old or the new script, never a half-written one, and never gets ETXTBSY.
 */
export function replaceExecutable(file: string, body: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, body, { mode: 0o755 });
  chmodSync(tmp, 0o755);
  renameSync(tmp, file);
}

function exe(file: string, body: string) {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, body);
  chmodSync(file, 0o755);
}

/**
 * A partition whose etc/instantiate appends a line to <dir>/instantiations (counter) and
 * optionally sleeps; a legacy test promise; and, with `failAnomalyWhen`, a plugin promise
 * whose anomaly fails (at once) while the file var/<failAnomalyWhen> exists.
 */
export function makePartition(
  root: string,
  id: string,
  opts: {
    instantiateSleep?: number;
    /** a plugin promise fails (test and anomaly) while var/<name> exists */
    failAnomalyWhen?: string;
    /** etc/instantiate removes var/<failAnomalyWhen> (a repair) */
    repair?: boolean;
    /** the plugin has no test: instantiations pass even while it fails its anomaly */
    testless?: boolean;
    failInstantiate?: boolean;
  } = {},
): string {
  const dir = join(root, id);
  mkdirSync(join(dir, 'var'), { recursive: true });
  exe(
    join(dir, 'etc', 'instantiate'),
    `#!/bin/sh\necho "$(date +%s.%N) $VIGIL_PARTITION_ID" >> instantiations\necho instantiating $VIGIL_PARTITION_ID\n` +
      (opts.instantiateSleep ? `sleep ${opts.instantiateSleep}\n` : '') +
      (opts.repair && opts.failAnomalyWhen ? `rm -f var/${opts.failAnomalyWhen}\n` : '') +
      (opts.failInstantiate ? 'echo broken >&2\nexit 4\n' : ''),
  );
  exe(join(dir, 'etc', 'promise', 'alive'), '#!/bin/sh\necho alive\n');
  if (opts.failAnomalyWhen) {
    const flag = opts.failAnomalyWhen;
    mkdirSync(join(dir, 'etc', 'plugin'), { recursive: true });
    writeFileSync(
      join(dir, 'etc', 'plugin', 'health.mjs'),
      `import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GenericPromise } from 'vigil/promise';
export default class Health extends GenericPromise {
  constructor(config) { super(config); this.setPeriodicity(0.001);${opts.testless ? ' this.setTestLess();' : ''} }
  sense() {
    if (existsSync(join(this.getPartitionFolder(), 'var', ${JSON.stringify(flag)}))) this.logger.error('health: service is down');
    else this.logger.info('health: ok');
  }
  test() { return this._test({ resultCount: 1, failureAmount: 1 }); }
  anomaly() { return this._anomaly({ resultCount: 1, failureAmount: 1 }); }
}
`,
    );
  }
  return dir;
}

export function instantiationCount(partitionDir: string): number {
  try {
    return readFileSync(join(partitionDir, 'instantiations'), 'utf8').trim().split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

export function cleanup(...dirs: string[]) {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
