// The agent loop's cycle against a scripted master (a fake MasterClient: the wire is tested
// in spool-client.test.ts and e2e): which partitions are processed online and offline, what
// happens to reports the master refuses, and the token file being re-read.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallResult, MasterClient } from '../../../agent/client.ts';
import type { HeartbeatResponse, ReportRequest } from '../../../protocol/index.ts';
import { createMasterClient } from '../../../agent/client.ts';
import { createLogger } from '../../../agent/log.ts';
import { Agent, DEFAULT_SETTINGS, type RunPromises } from '../../../agent/loop.ts';
import { readPartitionState } from '../../../agent/state.ts';
import { readTokenFile, TokenFileError, tokenFileSource } from '../../../agent/token.ts';
import { writePartitionState } from '../../../agent/state.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-loop-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Answer = { ok: true } | { ok: false; status?: number };

/** A master whose answers the test sets; it records what it received. */
function fakeMaster(assigned: string[]) {
  const state = {
    up: true as boolean,
    heartbeatStatus: undefined as number | undefined,
    reportAnswer: { ok: true } as Answer,
    assigned,
    reports: [] as { partitionId: string; body: ReportRequest }[],
    bangs: [] as string[],
  };
  const fail = (status?: number): CallResult<never> =>
    status === undefined
      ? { ok: false, retryable: true, message: 'ECONNREFUSED' }
      : { ok: false, status, retryable: status >= 500 || status === 401 || status === 429, message: `${status} refused` };
  const client: MasterClient = {
    masterUrl: 'http://fake',
    async heartbeat(): Promise<CallResult<HeartbeatResponse>> {
      if (!state.up) return fail();
      if (state.heartbeatStatus) return fail(state.heartbeatStatus);
      return {
        ok: true,
        status: 200,
        body: {
          serverTime: new Date().toISOString(),
          reprocess: [],
          partitions: state.assigned.map((p) => ({ partitionId: p, instanceTreeId: 't', softwareReleaseId: 's', periodicitySeconds: null })),
        },
      };
    },
    async report(partitionId, body) {
      if (!state.up) return fail();
      if (!state.reportAnswer.ok) return fail(state.reportAnswer.status);
      state.reports.push({ partitionId, body });
      return { ok: true, status: 202, body: {} };
    },
    async bang(partitionId, body) {
      if (!state.up) return fail();
      state.bangs.push(partitionId);
      return { ok: true, status: 202, body: { bangId: body.bangId, fannedOutTo: 1 } };
    },
  };
  return { state, client };
}

const okRun: RunPromises = async () => ({
  ok: true,
  startedAt: new Date().toISOString(),
  durationMs: 1,
  results: [],
  bang: { due: false },
});

function setup(partitions: string[], assigned: string[]) {
  const root = tmp();
  for (const p of partitions) mkdirSync(join(root, p, 'etc'), { recursive: true });
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  const master = fakeMaster(assigned);
  const make = () =>
    new Agent(
      { ...DEFAULT_SETTINGS, masterUrl: 'http://fake', computerId: 'c1', instanceRoot: root },
      { client: master.client, log, runPromises: okRun },
    );
  const spooled = (p: string) => {
    try {
      return readdirSync(join(root, p, '.vigil', 'agent', 'spool')).filter((f) => f.endsWith('.json')).length;
    } catch {
      return 0;
    }
  };
  return { root, lines, master, make, spooled };
}

describe('agent cycle: which partitions', () => {
  it('skips a directory the master does not assign, online (one warning) and offline (never instantiated, nothing spooled)', async () => {
    const { root, lines, master, make, spooled } = setup(['p1', 'stray'], ['p1', 'gone']);
    const agent = make();
    const c1 = await agent.cycle();
    expect(c1.partitions.map((a) => [a.partitionId, a.action])).toEqual([['p1', 'instantiated']]);
    expect(lines.filter((l) => /stray: not assigned/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /gone: assigned to computer c1 by the master, but .* does not exist/.test(l))).toHaveLength(1);
    await agent.cycle();
    expect(lines.filter((l) => /stray/.test(l))).toHaveLength(1); // warned once
    expect(lines.filter((l) => /gone:/.test(l))).toHaveLength(1);
    expect(readPartitionState(join(root, 'p1')).assigned).toBe(true);
    expect(readPartitionState(join(root, 'stray')).assigned).toBe(false);

    // the master goes down; p1 changes state and its report is spooled, stray is left alone
    master.state.up = false;
    const failing: RunPromises = async () => ({
      ok: false,
      startedAt: new Date().toISOString(),
      durationMs: 1,
      results: [
        { name: 'x.json', title: 'x', kind: 'anomaly', failed: true, message: 'down', date: new Date().toISOString(), executionTimeMs: 1, legacy: false },
      ],
      bang: { due: false },
    });
    const offline = new Agent(agent.settings, { client: master.client, log: createLogger({ write: (l) => lines.push(l) }), runPromises: failing });
    const c3 = await offline.cycle(); // a fresh process: knows only what the state files say
    expect(c3.heartbeatOk).toBe(false);
    expect(c3.partitions.map((a) => a.partitionId)).toEqual(['p1']);
    expect(spooled('p1')).toBe(1);
    expect(spooled('stray')).toBe(0);
    expect(readPartitionState(join(root, 'stray')).lastInstantiationAt).toBeUndefined();
    const c4 = await agent.cycle(); // the long-running process: knows the last answer
    expect(c4.partitions.map((a) => a.partitionId)).toEqual(['p1']);

    // a brand-new directory seen only while offline is not processed either
    mkdirSync(join(root, 'newdir'));
    const c5 = await make().cycle();
    expect(c5.partitions.map((a) => a.partitionId)).toEqual(['p1']);
    expect(lines.filter((l) => /newdir: not known to be assigned/.test(l))).toHaveLength(1);

    // back online: the spool drains; once assigned, the new directory is instantiated
    master.state.up = true;
    master.state.assigned = ['p1', 'newdir'];
    const c6 = await make().cycle();
    expect(spooled('p1')).toBe(0);
    expect(c6.partitions.find((a) => a.partitionId === 'newdir')?.action).toBe('instantiated');
    expect(master.state.reports.map((r) => r.partitionId)).toContain('newdir');
    expect(master.state.reports.some((r) => r.partitionId === 'stray')).toBe(false);
  });

  it('a refused token (401) keeps reports in the spool instead of dropping them, with a clear error', async () => {
    const { lines, master, make, spooled } = setup(['p1'], ['p1']);
    const agent = make();
    await agent.cycle(); // assigned, instantiated, reported
    expect(master.state.reports).toHaveLength(1);
    master.state.heartbeatStatus = 401;
    master.state.reportAnswer = { ok: false, status: 401 };
    const agent2 = new Agent({ ...agent.settings, defaultFrequencySeconds: 1e-3 }, {
      client: master.client,
      log: createLogger({ write: (l) => lines.push(l) }),
      runPromises: okRun,
    });
    await new Promise((r) => setTimeout(r, 5));
    const c = await agent2.cycle(); // periodic re-instantiation, report refused: spooled
    expect(c.heartbeatOk).toBe(false);
    expect(c.partitions[0]).toMatchObject({ partitionId: 'p1', action: 'instantiated' });
    expect(lines.some((l) => /error heartbeat refused: 401 .*token file.*vigil admin computer token c1/.test(l))).toBe(true);
    expect(spooled('p1')).toBe(1);
    await agent2.cycle(); // replay refused again: still kept
    expect(spooled('p1')).toBeGreaterThanOrEqual(1);
    // the token is fixed: everything arrives
    master.state.heartbeatStatus = undefined;
    master.state.reportAnswer = { ok: true };
    await agent2.cycle();
    expect(spooled('p1')).toBe(0);
    expect(master.state.reports.length).toBeGreaterThanOrEqual(2);
  });

  it('a report refused for good (403: not this computer\'s partition) is dropped, not retried forever', async () => {
    const { master, make, spooled } = setup(['p1'], ['p1']);
    const agent = make();
    master.state.up = false;
    await agent.cycle(); // p1 unknown yet (never heard from the master): skipped
    expect(spooled('p1')).toBe(0);
    master.state.up = true;
    master.state.reportAnswer = { ok: false, status: 403 };
    const c = await agent.cycle();
    expect(c.partitions[0]).toMatchObject({ action: 'instantiated' });
    expect(spooled('p1')).toBe(0);
  });
});

describe('token file', () => {
  it('is re-read when it changes (rotation without restart); a broken new file keeps the old token', async () => {
    const d = tmp();
    const f = join(d, 'tok');
    writeFileSync(f, 'first\n');
    chmodSync(f, 0o600);
    const errors: string[] = [];
    const get = tokenFileSource(f, 'first', (m) => errors.push(m));
    expect(get()).toBe('first');
    writeFileSync(f, 'second-token\n');
    expect(get()).toBe('second-token');
    chmodSync(f, 0o644);
    writeFileSync(f, 'third-token\n');
    expect(get()).toBe('second-token');
    expect(errors[0]).toMatch(/accessible by other users.*previous token/);
    // the client sends the current token
    const seen: string[] = [];
    const client = createMasterClient({
      masterUrl: 'http://x',
      computerId: 'c',
      token: get,
      fetch: (async (_u: unknown, init?: RequestInit) => {
        seen.push(String((init?.headers as Record<string, string> | undefined)?.authorization));
        return new Response('{}', { status: 401 });
      }) as typeof fetch,
    });
    const r = await client.report('p', {} as ReportRequest);
    expect(r).toMatchObject({ ok: false, status: 401, retryable: true });
    chmodSync(f, 0o600);
    writeFileSync(f, 'fourth-token\n');
    await client.heartbeat();
    expect(seen).toEqual(['Bearer second-token', 'Bearer fourth-token']);
  });
});

describe('token file that is not a regular file', () => {
  it('a FIFO, a directory, /dev/zero: refused at once with a clear message (no hang)', () => {
    const d = tmp();
    const fifo = join(d, 'fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const dir = join(d, 'dir');
    mkdirSync(dir, { mode: 0o700 });
    const cases: [string, RegExp][] = [
      [fifo, /is a FIFO, not a regular file/],
      [dir, /is a directory, not a regular file/],
      ['/dev/zero', /is a character device, not a regular file/],
    ];
    for (const [file, message] of cases) {
      expect(() => readTokenFile(file)).toThrow(TokenFileError);
      expect(() => readTokenFile(file)).toThrow(message);
    }
  });

  it('a token file replaced by a FIFO keeps the previous token (re-read does not block)', () => {
    const d = tmp();
    const f = join(d, 'tok');
    writeFileSync(f, 'first\n', { mode: 0o600 });
    const errors: string[] = [];
    const get = tokenFileSource(f, 'first', (m) => errors.push(m));
    const fifo = join(d, 'fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    renameSync(fifo, f);
    expect(get()).toBe('first');
    expect(errors[0]).toMatch(/is a FIFO, not a regular file.*still using the previous token/);
  });
});

describe('heartbeat answered 200 by something that is not the master', () => {
  it('is a failed heartbeat: the agent works offline on the partitions it knew, and records nothing as unassigned', async () => {
    const { root, lines } = setup(['p1'], ['p1']);
    writePartitionState(join(root, 'p1'), { failures: 0, assigned: true });
    const portal = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Please log in to use the Wi-Fi</body></html>');
    });
    await new Promise<void>((r) => portal.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
      const client = createMasterClient({ masterUrl: url, computerId: 'c1', token: 't' });
      const log = createLogger({ write: (l) => lines.push(l) });
      const agent = new Agent({ ...DEFAULT_SETTINGS, masterUrl: url, computerId: 'c1', instanceRoot: root }, { client, log, runPromises: okRun });
      const s = await agent.cycle();
      expect(s.heartbeatOk).toBe(false);
      // the partition is still processed (assigned as far as the agent knows), not skipped
      expect(s.partitions.map((a) => a.partitionId)).toEqual(['p1']);
      expect(readPartitionState(join(root, 'p1')).assigned).toBe(true);
      expect(lines.join('\n')).toMatch(/heartbeat failed: .*unexpected answer \(content type 'text\/html'\)/);
      expect(lines.join('\n')).not.toMatch(/not assigned/);
    } finally {
      portal.closeAllConnections();
      await new Promise((r) => portal.close(r));
    }
  });
});

describe('engine warnings in reports', () => {
  it('a non-executable file in etc/promise is named in the report, which stays OK', async () => {
    const { root, master } = setup(['p1'], ['p1']);
    const warning = "Bad promise file at '/x/etc/promise/y': not executable (chmod +x it, or move it out of etc/promise); skipped";
    const run: RunPromises = async () => ({ ...(await okRun({ partitionDir: root, mode: 'test' })), warnings: [warning] });
    const agent = new Agent(
      { ...DEFAULT_SETTINGS, masterUrl: 'http://fake', computerId: 'c1', instanceRoot: root },
      { client: master.client, log: createLogger({ write: () => {} }), runPromises: run },
    );
    await agent.cycle();
    expect(master.state.reports).toHaveLength(1);
    expect(master.state.reports[0]!.body).toMatchObject({ kind: 'instantiation', ok: true, error: `warning: ${warning}` });
  });
});

describe('promises sharing a file name', () => {
  it('etc/plugin/dup.json beside etc/promise/dup.json: one entry in the report (the failure), never two the master cannot store', async () => {
    const { root, master } = setup(['p1'], ['p1']);
    const date = new Date().toISOString();
    const entry = (failed: boolean, legacy: boolean) => ({
      name: 'dup.json',
      title: 'dup',
      kind: 'test' as const,
      failed,
      message: failed ? "duplicate promise title 'dup': rename one" : 'ok',
      date,
      executionTimeMs: 0,
      legacy,
    });
    const run: RunPromises = async () => ({ ok: false, startedAt: date, durationMs: 1, results: [entry(false, false), entry(true, true)], bang: { due: false } });
    const agent = new Agent(
      { ...DEFAULT_SETTINGS, masterUrl: 'http://fake', computerId: 'c1', instanceRoot: root },
      { client: master.client, log: createLogger({ write: () => {} }), runPromises: run },
    );
    await agent.cycle();
    expect(master.state.reports[0]!.body.promises).toEqual([expect.objectContaining({ name: 'dup.json', failed: true })]);
  });
});
