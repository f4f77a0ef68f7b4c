// Promises and etc/instantiate run detached (own process groups), so a terminal's Ctrl-C
// does not reach them: when `vigil promise run` or `vigil agent` is told to exit now, it
// must kill them itself, or they outlive it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cleanup,
  type MasterProc,
  makePartition,
  replaceExecutable,
  seedFleet,
  spawnVigil,
  startMaster,
  tempDir,
  waitFor,
} from '../helpers/agent-loop.ts';
import { alive } from '../helpers/engine.ts';

const dir = tempDir('vigil-signals-');
let master: MasterProc | undefined;

beforeAll(() => {
  if (!existsSync(join(import.meta.dirname, '../../dist/vigil.mjs'))) throw new Error('run `npm run build` first');
});
afterAll(async () => {
  await master?.stop();
  cleanup(dir);
});


/** A shell script that starts a `sleep` child, records both pids, then waits forever. */
function hanging(pidFile: string): string {
  return `#!/bin/sh\nsleep 300 &\necho "$$ $!" > ${JSON.stringify(pidFile)}\nwait\n`;
}

function readPids(pidFile: string): number[] | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pids = readFileSync(pidFile, 'utf8').trim().split(/\s+/).map(Number);
  return pids.length === 2 && pids.every((p) => p > 0) ? pids : undefined;
}

it('vigil promise run: SIGINT kills the running promises and their children, exit 130', async () => {
  const part = join(dir, 'promise-part');
  mkdirSync(join(part, 'etc', 'promise'), { recursive: true });
  const pidFile = join(dir, 'promise.pids');
  writeFileSync(join(part, 'etc', 'promise', 'hang'), hanging(pidFile), { mode: 0o755 });
  const p = spawnVigil(['promise', 'run', '--partition', part, '--timeout', '120']);
  const pids = await waitFor(`hanging promise started\n${p.output()}`, () => readPids(pidFile));
  expect(pids.every(alive)).toBe(true);
  p.child.kill('SIGINT');
  expect(await p.exited).toBe(130);
  expect(p.output()).toContain('killed 1 running promise process group');
  await waitFor('promise processes gone', () => pids.every((pid) => !alive(pid)), 5_000);
});

it('vigil agent: a second SIGTERM during a hanging etc/instantiate kills its process group', async () => {
  master = await startMaster({ dataDir: join(dir, 'master') });
  const root = join(dir, 'instances');
  const { tokenFile } = await seedFleet(master.url, { dir, computerId: 'sig-c', treeId: 'sig-t', partitions: ['sig-p'] });
  const part = makePartition(root, 'sig-p');
  const pidFile = join(dir, 'instantiate.pids');
  replaceExecutable(join(part, 'etc', 'instantiate'), hanging(pidFile));
  const agent = spawnVigil([
    'agent', '--master', master.url, '--computer', 'sig-c', '--token-file', tokenFile,
    '--instance-root', root, '--instantiate-timeout', '120',
  ]);
  const pids = await waitFor(`etc/instantiate started\n${agent.output()}`, () => readPids(pidFile));
  expect(pids.every(alive)).toBe(true);
  agent.child.kill('SIGTERM');
  await waitFor(`first SIGTERM acknowledged\n${agent.output()}`, () => agent.output().includes('stopping after the current step'));
  agent.child.kill('SIGTERM');
  expect(await agent.exited).toBe(130);
  expect(agent.output()).toMatch(/killed \d+ running process group/);
  await waitFor('etc/instantiate processes gone', () => pids.every((pid) => !alive(pid)), 5_000);
});
