// The agent loop end to end: real `vigil master` and `vigil agent` processes (built CLI).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  cleanup,
  instantiationCount,
  makePartition,
  type Proc,
  replaceExecutable,
  seedFleet,
  spawnVigil,
  startMaster,
  tempDir,
  VIGIL,
  waitFor,
} from '../helpers/agent-loop.ts';
import { alive } from '../helpers/engine.ts';

const procs: Proc[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
  cleanup(...dirs.splice(0));
});
beforeAll(() => {
  if (!existsSync(VIGIL)) throw new Error(`${VIGIL} is missing: run npm run build first`);
});

const FAST = ['--interval', '0.5', '--backoff-base', '1', '--backoff-max', '4', '--http-timeout', '2'];

function startAgent(args: { url: string; computerId: string; tokenFile: string; root: string; extra?: string[] }): Proc {
  const p = spawnVigil([
    'agent',
    '--master',
    args.url,
    '--computer',
    args.computerId,
    '--token-file',
    args.tokenFile,
    '--instance-root',
    args.root,
    '--json',
    ...FAST,
    ...(args.extra ?? []),
  ]);
  procs.push(p);
  return p;
}

type Part = {
  partitionId: string;
  colour: string;
  colourReason: string;
  lastBangAt: string | null;
  reprocess: unknown;
  lastReport: { ok: boolean; kind: string; error: string | null; receivedAt: string } | null;
};
async function partitions(url: string, tree: string): Promise<Part[]> {
  const r = await api<{ partitions: Part[] }>(url, 'GET', `/v1/partitions?instanceTreeId=${tree}`);
  return r.body.partitions;
}
type BangRow = { bangId: string; source: string; createdAt: string; fanOut: string };
async function bangs(url: string, partitionId?: string): Promise<BangRow[]> {
  const r = await api<{ bangs: BangRow[] }>(
    url,
    'GET',
    `/v1/bangs${partitionId ? `?partitionId=${partitionId}` : ''}`,
  );
  return r.body.bangs;
}
/** A `--json` log line of the agent (the fields the tests read). */
type LogLine = {
  time: string;
  level: string;
  msg: string;
  event?: string;
  partitionId?: string;
  ok?: boolean;
  failures?: number;
  retryInMs?: number;
  durationMs: number;
  [key: string]: unknown;
};
function jsonLines(p: Proc): LogLine[] {
  return p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

describe('vigil agent against vigil master', () => {
  it('a tree of three comes up green; a failing anomaly → one bang → the whole tree re-instantiated', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const root = join(dir, 'root');
    const master = await startMaster({ dataDir: join(dir, 'master') });
    procs.push(master);
    const ids = ['t1-a', 't1-b', 't1-c'];
    const { tokenFile } = await seedFleet(master.url, { dir, computerId: 'c1', treeId: 't1', partitions: ids });
    const pdirs = ids.map((id) => makePartition(root, id, id === 't1-b' ? { failAnomalyWhen: 'down', repair: true } : {}));
    const agent = startAgent({ url: master.url, computerId: 'c1', tokenFile, root });

    await waitFor('three green partitions', async () => {
      const ps = await partitions(master.url, 't1');
      return ps.length === 3 && ps.every((p) => p.colour === 'green');
    });
    expect(pdirs.map(instantiationCount)).toEqual([1, 1, 1]);

    // the service of t1-b goes down: its anomaly check fails. Sample t1-b's colour all along:
    // after the bang it must stay red until an OK report newer than the bang arrives.
    const samples: Part[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const p = (await partitions(master.url, 't1').catch(() => [])).find((x) => x.partitionId === 't1-b');
        if (p) samples.push(p);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const t0 = Date.now();
    writeFileSync(join(pdirs[1]!, 'var', 'down'), 'x');
    try {
      await waitFor('every partition re-instantiated', () => pdirs.every((d) => instantiationCount(d) >= 2), 40_000, 20);
      const reinstantiatedMs = Date.now() - t0;
      process.stdout.write(`[agent-loop] failing anomaly → every partition of the tree re-instantiated: ${reinstantiatedMs} ms\n`);
      const b = await bangs(master.url, 't1-b');
      expect(b).toHaveLength(1);
      expect(b[0]!.source).toBe('promise');
      // the repaired tree turns green again, with no second bang
      await waitFor('green again', async () => (await partitions(master.url, 't1')).every((p) => p.colour === 'green'), 40_000);
    } finally {
      sampling = false;
      await sampler;
    }
    const afterBang = samples.filter((p) => p.lastBangAt);
    const red = afterBang.filter((p) => p.colour === 'red');
    expect(red.length).toBeGreaterThan(0);
    expect(red[0]!.colourReason).toMatch(/health|bang|failed/i);
    for (const p of afterBang) {
      if (p.colour !== 'green') continue;
      // green after the bang only on an OK report received after it
      expect(p.lastReport?.ok).toBe(true);
      expect(Date.parse(p.lastReport!.receivedAt)).toBeGreaterThanOrEqual(Date.parse(p.lastBangAt!));
    }
    await new Promise((r) => setTimeout(r, 1500));
    expect(await bangs(master.url, 't1-b')).toHaveLength(1);
    expect(pdirs.map(instantiationCount)).toEqual([2, 2, 2]);
    // the instantiation reports carried reprocessedUpTo: the master cleared every flag
    expect((await partitions(master.url, 't1')).map((p) => p.reprocess)).toEqual([null, null, null]);
    // a report only when the state changes: t1-a (always OK) sent its two instantiation
    // reports and no anomaly report over all these cycles; t1-b one anomaly report (→ failing)
    const kinds = async (pid: string) =>
      (await api<{ reports: { kind: string }[] }>(master.url, 'GET', `/v1/partitions/${pid}/promises`)).body.reports
        .map((r) => r.kind)
        .sort();
    expect(await kinds('t1-a')).toEqual(['instantiation', 'instantiation']);
    expect(await kinds('t1-b')).toEqual(['anomaly', 'instantiation', 'instantiation']);
    const cycles = jsonLines(agent).filter((l) => l.event === 'cycle');
    expect(cycles.length).toBeGreaterThan(2);
    expect(cycles.at(-1)).toMatchObject({ heartbeatOk: true, spoolDepth: 0 });
  });

  it('master killed mid-cycle and restarted (also with the agent restarted): reports and bangs arrive exactly once', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const root = join(dir, 'root');
    let master = await startMaster({ dataDir: join(dir, 'master') });
    procs.push(master);
    const { tokenFile } = await seedFleet(master.url, { dir, computerId: 'c2', treeId: 't2', partitions: ['t2-a', 't2-b'] });
    const a = makePartition(root, 't2-a', { failAnomalyWhen: 'down' });
    const b = makePartition(root, 't2-b', { instantiateSleep: 0.3 });
    writeFileSync(join(b, 'periodicity'), '1'); // t2-b is re-instantiated every second: reports keep coming
    let agent = startAgent({ url: master.url, computerId: 'c2', tokenFile, root });
    await waitFor('green', async () => (await partitions(master.url, 't2')).every((p) => p.colour === 'green'));

    const spooled = (pdir: string) => {
      const sdir = join(pdir, '.vigil', 'agent', 'spool');
      return existsSync(sdir)
        ? readdirSync(sdir)
            .filter((f) => f.endsWith('.json'))
            .map((f) => JSON.parse(readFileSync(join(sdir, f), 'utf8')) as { kind: string; partitionId: string; body: { reportId?: string; bangId?: string } })
        : [];
    };
    const allIds = new Set<string>();
    for (const phase of ['master restart', 'master and agent restart']) {
      // kill the master while t2-b is instantiating
      await waitFor('an instantiation in progress', () => {
        const lines = jsonLines(agent);
        const last = lines.filter((l) => l.partitionId === 't2-b' && (l.event === 'instantiate' || l.event === 'instantiated')).at(-1);
        return last?.event === 'instantiate';
      }, 30_000, 10);
      await master.stop('SIGKILL');
      writeFileSync(join(a, 'var', 'down'), 'x'); // an anomaly (report + bang) while the master is down
      await waitFor(`${phase}: spooled reports and a bang`, () => {
        const items = [...spooled(a), ...spooled(b)];
        return items.some((i) => i.kind === 'bang') && items.filter((i) => i.kind === 'report').length >= 3 ? items : undefined;
      }, 40_000);
      if (phase === 'master and agent restart') {
        await agent.stop('SIGKILL');
      }
      const items = [...spooled(a), ...spooled(b)];
      for (const i of items) allIds.add(i.body.reportId ?? i.body.bangId!);
      master = await startMaster({ dataDir: master.dataDir, port: master.port });
      procs.push(master);
      if (phase === 'master and agent restart') agent = startAgent({ url: master.url, computerId: 'c2', tokenFile, root });
      await waitFor(`${phase}: spool drained`, () => spooled(a).length === 0 && spooled(b).length === 0, 40_000);
      // every spooled item arrived, once
      const bangIds = (await bangs(master.url, 't2-a')).map((x) => x.bangId);
      for (const i of items.filter((x) => x.kind === 'bang')) {
        expect(bangIds.filter((id) => id === i.body.bangId)).toHaveLength(1);
      }
      for (const [pid, pdir] of [
        ['t2-a', a],
        ['t2-b', b],
      ] as const) {
        const prom = await api<{ reports: { reportId: string }[] }>(master.url, 'GET', `/v1/partitions/${pid}/promises`);
        const seen = prom.body.reports.map((r) => r.reportId);
        for (const i of items.filter((x) => x.kind === 'report' && x.partitionId === pid)) {
          expect(seen.filter((id) => id === i.body.reportId)).toHaveLength(1);
        }
        expect(new Set(seen).size).toBe(seen.length);
        expect(existsSync(pdir)).toBe(true);
      }
      // stop the anomaly before the next phase; the bang led to a re-instantiation (served:
      // no reprocess flag left), and the tree is green again
      rmSync(join(a, 'var', 'down'), { force: true });
      await waitFor(
        'green again, the bang served',
        async () => (await partitions(master.url, 't2')).every((p) => p.colour === 'green' && p.reprocess === null),
        40_000,
      );
    }
    expect(allIds.size).toBeGreaterThan(6);
    expect(await bangs(master.url, 't2-a')).toHaveLength(2);
  });

  it('a hanging etc/instantiate is killed at its timeout and reported; back-off grows and resets', async () => {
    // Load-proof: every check reads what happened (the agent's log, the master) instead of
    // assuming how fast things run; the scripts are replaced atomically (no ETXTBSY, no
    // half-written script run by the agent); the budgets only bound a stuck agent.
    const dir = tempDir();
    dirs.push(dir);
    const root = join(dir, 'root');
    const master = await startMaster({ dataDir: join(dir, 'master') });
    procs.push(master);
    const { tokenFile } = await seedFleet(master.url, { dir, computerId: 'c3', treeId: 't3', partitions: ['t3-a'] });
    const p = makePartition(root, 't3-a');
    const script = join(p, 'etc', 'instantiate');
    // the hanging script records the pid of its child first, then waits for it forever
    replaceExecutable(script, '#!/bin/sh\nsleep 60 &\necho $! >> sleepers\nwait\n');
    const agent = startAgent({ url: master.url, computerId: 'c3', tokenFile, root, extra: ['--instantiate-timeout', '0.3'] });
    const lines = () => jsonLines(agent).filter((l) => l.partitionId === 't3-a');
    const failures = (ls = lines()) => ls.filter((l) => l.event === 'instantiated' && l.ok === false);
    await waitFor('three failed instantiations', () => failures().length >= 3, 60_000).catch((e) => {
      throw new Error(`${e}\n${agent.output()}`);
    });
    const f = failures();
    expect(f.map((l) => l.failures).slice(0, 3)).toEqual([1, 2, 3]);
    expect(f.map((l) => l.retryInMs).slice(0, 3)).toEqual([1000, 2000, 4000]);
    expect(f[0]!.msg).toMatch(/timed out after 0.3 s and was killed/);
    // attempts are spaced by the back-off (1 s, then 2 s after a 0.3 s run), not every cycle (0.5 s)
    const starts = lines()
      .filter((l) => l.event === 'instantiate')
      .map((l) => Date.parse(l.time));
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(1250);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(2250);
    // the hanging children were killed with their group (a later attempt's child is killed
    // at its own timeout: wait for all of them, never 60 s)
    const sleepers = () => readFileSync(join(p, 'sleepers'), 'utf8').trim().split('\n').map(Number);
    expect(sleepers().length).toBeGreaterThanOrEqual(1);
    await waitFor('the hanging children killed', () => sleepers().every((pid) => !alive(pid)), 10_000, 50);
    const part = (await partitions(master.url, 't3'))[0]!;
    expect(part.colour).toBe('red');
    expect(part.lastReport?.ok).toBe(false);
    expect(part.lastReport?.error).toMatch(/timed out after 0.3 s/);
    // fixed: the next attempt succeeds and the back-off resets
    replaceExecutable(script, '#!/bin/sh\necho ok\n');
    await waitFor('success', () => lines().some((l) => l.event === 'instantiated' && l.ok === true), 40_000);
    const state = JSON.parse(readFileSync(join(p, '.vigil', 'agent', 'state.json'), 'utf8'));
    expect(state.failures).toBe(0);
    await waitFor('green', async () => (await partitions(master.url, 't3'))[0]!.colour === 'green', 40_000);
    // broken again: the first failure after the success waits the base delay again
    replaceExecutable(script, '#!/bin/sh\nexit 3\n');
    writeFileSync(join(p, 'periodicity'), '1');
    const afterSuccess = () => {
      const ls = lines();
      return failures(ls.slice(ls.findLastIndex((l) => l.event === 'instantiated' && l.ok === true) + 1));
    };
    await waitFor('failure after reset', () => afterSuccess().length >= 1, 30_000);
    expect(afterSuccess()[0]).toMatchObject({ failures: 1, retryInMs: 1000 });
  }, 180_000);

  it('quota: a partition that keeps failing stops banging at the quota and handles the 429 without spinning', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const root = join(dir, 'root');
    const master = await startMaster({ dataDir: join(dir, 'master') });
    procs.push(master);
    const { tokenFile } = await seedFleet(master.url, {
      dir,
      computerId: 'c4',
      treeId: 't4',
      partitions: ['t4-a', 't4-b'],
      srId: 'sr-quota',
      bangQuotaPerDay: 2,
    });
    const a = makePartition(root, 't4-a', { failAnomalyWhen: 'down', testless: true });
    makePartition(root, 't4-b');
    writeFileSync(join(a, 'var', 'down'), 'x');
    const agent = startAgent({ url: master.url, computerId: 'c4', tokenFile, root });
    await waitFor('quota reached', () => /daily quota/.test(agent.output()), 30_000);
    // the agent keeps its pace (cycles start 0.5 s apart, however loaded the machine is) and
    // tries no other bang: wait for six more cycles and read their start times
    const cyclesAtQuota = jsonLines(agent).filter((l) => l.event === 'cycle').length;
    await waitFor('six more cycles', () => jsonLines(agent).filter((l) => l.event === 'cycle').length >= cyclesAtQuota + 6, 30_000);
    const lines = jsonLines(agent);
    const cycleStarts = lines
      .filter((l) => l.event === 'cycle')
      .slice(cyclesAtQuota - 1)
      .map((l) => Date.parse(l.time) - l.durationMs);
    for (let i = 1; i < cycleStarts.length; i++) expect(cycleStarts[i]! - cycleStarts[i - 1]!).toBeGreaterThanOrEqual(490);
    expect(lines.filter((l) => /daily quota/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'debug')).toEqual([]); // no --verbose: no detail lines
    expect(lines.filter((l) => l.event === 'bang')).toHaveLength(2);
    // at the master: two bangs fanned out, one refused (recorded as rejected), nothing more
    const all = await bangs(master.url, 't4-a');
    expect(all.filter((b) => b.fanOut !== 'rejected')).toHaveLength(2);
    expect(all.filter((b) => b.fanOut === 'rejected')).toHaveLength(1);
    const state = JSON.parse(readFileSync(join(a, '.vigil', 'agent', 'state.json'), 'utf8'));
    const nextUtcDay = new Date();
    nextUtcDay.setUTCHours(24, 0, 0, 0);
    expect(Math.abs(Date.parse(state.bangWaitUntil) - nextUtcDay.getTime())).toBeLessThan(5000);
    expect((await partitions(master.url, 't4')).find((p) => p.partitionId === 't4-a')?.colour).toBe('red');

    // --config (paths relative to the file), --once (one cycle, exit 1 as t4-a is failing)
    // and --verbose, in the readable format
    await agent.stop();
    writeFileSync(
      join(dir, 'agent.json'),
      JSON.stringify({ master: master.url, computer: 'c4', tokenFile: 'c4.token', 'instance-root': 'root', interval: 30 }),
    );
    const once = spawnVigil(['agent', '--config', join(dir, 'agent.json'), '--once', '--verbose']);
    procs.push(once);
    expect(await once.exited).toBe(1);
    expect(once.output()).toMatch(/cycle 1: heartbeat ok; 2 partitions: 0 instantiated, 2 checked \(1 failing\); spool depth 0/);
    // quota still respected by a new agent process: no bang attempt; --verbose says why
    expect(once.output()).not.toMatch(/BANG|daily quota/);
    expect(once.output()).toMatch(/ debug t4-a: anomaly \(.*\); no bang: bang quota reached at the master; waiting until /);
    expect(once.output()).toMatch(/ debug t4-a: promise health \(anomaly\) FAILED: /);
  });

  it('a plugin file and a legacy promise with one file name: one entry in the report, stored, the partition red with both reasons', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const root = join(dir, 'root');
    const master = await startMaster({ dataDir: join(dir, 'master') });
    procs.push(master);
    const { tokenFile } = await seedFleet(master.url, { dir, computerId: 'c5', treeId: 't5', partitions: ['t5-a'] });
    const p = makePartition(root, 't5-a');
    // both fail at once, in the same millisecond: a broken plugin file, and the legacy
    // duplicate of its name — two results of one name and one date
    mkdirSync(join(p, 'etc', 'plugin'), { recursive: true });
    writeFileSync(join(p, 'etc', 'plugin', 'dup.json'), '{"plugin": ');
    replaceExecutable(join(p, 'etc', 'promise', 'dup.json'), '#!/bin/sh\necho legacy\n');
    const once = spawnVigil(['agent', '--master', master.url, '--computer', 'c5', '--token-file', tokenFile, '--instance-root', root, '--once', '--json']);
    procs.push(once);
    expect(await once.exited).toBe(1);
    expect(once.output()).toMatch(/instantiation FAILED: promises dup;.*report sent/);
    const part = (await partitions(master.url, 't5'))[0]!;
    expect(part.colour).toBe('red');
    expect(part.colourReason).toMatch(/^promise dup\.json failed: .*invalid JSON.*duplicate promise title 'dup'/);
  });

  it('refuses a token file readable by others, and bad usage', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const tf = join(dir, 'token');
    writeFileSync(tf, 'secret\n', { mode: 0o644 });
    const p = spawnVigil(['agent', '--master', 'http://127.0.0.1:1', '--computer', 'c', '--token-file', tf, '--instance-root', dir, '--once']);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain(`token file ${tf}`);
    expect(p.output()).toContain(`chmod 600 ${tf}`);
    // a FIFO (mode 0600) as the token file: refused at once, never waited on
    const fifo = join(dir, 'token.fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    for (const cmd of [
      ['agent', '--master', 'http://127.0.0.1:1', '--computer', 'c', '--token-file', fifo, '--instance-root', dir, '--once'],
      ['watchdog', '--master', 'http://127.0.0.1:1', '--computer', 'c', '--token-file', fifo],
    ]) {
      const f = spawnVigil(cmd);
      expect(await f.exited).toBe(2);
      expect(f.output()).toContain(`token file ${fifo} is a FIFO, not a regular file`);
    }
    const q = spawnVigil(['agent', '--master', 'http://x', '--computer', 'c', '--token-file', tf, '--instance-root', dir, '--interval', '120']);
    expect(await q.exited).toBe(2);
    expect(q.output()).toMatch(/--interval must be at most 60/);
    const r = spawnVigil(['agent', '--computer', 'c']);
    expect(await r.exited).toBe(2);
    expect(r.output()).toMatch(/missing --master, --token-file, --instance-root/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ master: 'http://x', colour: 'blue' }));
    const s = spawnVigil(['agent', '--config', join(dir, 'bad.json')]);
    expect(await s.exited).toBe(2);
    expect(s.output()).toMatch(/unknown key 'colour'/);
  });
});
