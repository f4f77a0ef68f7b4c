// The watchdog under a REAL supervisord (Debian package `supervisor`), banging a real master.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, cleanup, type Proc, ROOT, seedFleet, spawnVigil, startMaster, tempDir, VIGIL, waitFor } from '../helpers/agent-loop.ts';

function requireSupervisord(): void {
  try {
    execFileSync('supervisord', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('the watchdog tests need supervisord: install the Debian package supervisor (apt-get install -y supervisor)');
  }
}

const procs: Proc[] = [];
const dirs: string[] = [];
let supervisord: ChildProcess | undefined;
afterEach(async () => {
  if (supervisord && supervisord.exitCode === null) {
    const done = new Promise((r) => supervisord!.on('exit', r));
    supervisord.kill('SIGTERM');
    await done;
  }
  supervisord = undefined;
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
  cleanup(...dirs.splice(0));
});
beforeAll(() => {
  requireSupervisord();
  if (!existsSync(VIGIL)) throw new Error(`${VIGIL} is missing: run npm run build first`);
});

describe('vigil watchdog under supervisord', () => {
  it('one bang within 5 s when a watched service exits; none for a second exit before a new instantiation', async () => {
    const dir = tempDir('vigil-wd-');
    dirs.push(dir);
    const root = join(dir, 'root');
    const master = await startMaster({ dataDir: join(dir, 'master') });
    procs.push(master);
    const { tokenFile } = await seedFleet(master.url, { dir, computerId: 'cw', treeId: 'tw', partitions: ['tw-a', 'tw-b'] });
    for (const id of ['tw-a', 'tw-b']) mkdirSync(join(root, id), { recursive: true });
    // a watched service that dies 1.5 s after it started; a supervised, unwatched one that dies too
    for (const [sub, name] of [
      ['service', 'flaky'],
      ['run', 'helper'],
    ]) {
      const f = join(root, 'tw-a', 'etc', sub!, name!);
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, `#!/bin/sh\nsleep 1.5\ndate +%s%3N > ${name}.exit-at\nexit 1\n`);
      chmodSync(f, 0o755);
    }
    const sv = join(dir, 'sv');
    const conf = join(sv, 'supervisord.conf');
    const gen = spawnVigil([
      'supervisord-config',
      '--instance-root',
      root,
      '--master',
      master.url,
      '--computer',
      'cw',
      '--token-file',
      tokenFile,
      '--standalone',
      sv,
      '--vigil-command',
      `${process.execPath} ${VIGIL}`,
      '--output',
      conf,
    ]);
    expect(await gen.exited).toBe(0);
    supervisord = spawn('supervisord', ['-c', conf], { stdio: 'ignore', cwd: ROOT });
    // supervisorctl exits non-zero when a process is not running: keep its output anyway
    const ctl = (...args: string[]) => spawnSync('supervisorctl', ['-c', conf, ...args], { encoding: 'utf8' }).stdout;
    const bangs = async () =>
      (await api<{ bangs: { bangId: string; source: string; message: string }[] }>(master.url, 'GET', '/v1/bangs?partitionId=tw-a')).body
        .bangs;

    const first = await waitFor('the watchdog bang', async () => {
      const b = await bangs();
      return b.length > 0 ? b : undefined;
    }, 40_000, 50);
    // the bang arrives within 5 s of the exit (measured from the exit itself: load-proof)
    const exitAt = Number(readFileSync(join(root, 'tw-a', 'flaky.exit-at'), 'utf8'));
    const latency = Date.parse((first[0] as unknown as { createdAt: string }).createdAt) - exitAt;
    expect(latency).toBeLessThan(5000);
    process.stdout.write(`[watchdog] service exit → bang recorded at the master: ${latency} ms\n`);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ source: 'watchdog' });
    expect(first[0]!.message).toMatch(/flaky-on-watch/);
    const tree = await api<{ partitions: { partitionId: string; reprocess: unknown }[] }>(master.url, 'GET', '/v1/instance-trees/tw');
    await waitFor('fan-out to the tree', async () => {
      const t = await api<{ partitions: { reprocess: unknown }[] }>(master.url, 'GET', '/v1/instance-trees/tw');
      return t.body.partitions.every((p) => p.reprocess);
    });
    void tree;

    // second exit before any new instantiation: no second bang
    ctl('start', 'tw-a:flaky-on-watch');
    const log = join(sv, 'watchdog.log');
    await waitFor('the throttled second exit', () => /no bang: already banged/.test(readFileSync(log, 'utf8')), 30_000, 50);
    expect(await bangs()).toHaveLength(1);
    // the unwatched service died too (it is supervised: it ran), and never banged
    expect(ctl('status').split('\n').find((l) => l.startsWith('tw-a:helper'))).toMatch(/EXITED|FATAL/);

    // a successful instantiation (one agent cycle serves the reprocess flag) starts the
    // partition's programs again (slapgrid starts the process group) and re-arms the watchdog
    const helperExit = readFileSync(join(root, 'tw-a', 'helper.exit-at'), 'utf8');
    const once = spawnVigil([
      'agent',
      '--master',
      master.url,
      '--computer',
      'cw',
      '--token-file',
      tokenFile,
      '--instance-root',
      root,
      '--supervisord-config',
      conf,
      '--once',
    ]);
    procs.push(once);
    expect(await once.exited, once.output()).toBe(0);
    await waitFor('a second bang after the new instantiation', async () => ((await bangs()).length === 2 ? true : undefined), 30_000, 50);
    // the unwatched program was started again too
    await waitFor('the helper restarted', () => readFileSync(join(root, 'tw-a', 'helper.exit-at'), 'utf8') !== helperExit, 30_000, 50);
  });
});
