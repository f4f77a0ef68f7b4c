// Isolation: hanging promises (and their grandchildren) are killed on timeout, crashing
// promises are reported, and the other promises still run.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPartitionPromises } from '../../agent/engine/index.ts';
import { alive, cleanupTempDirs, tempPartition, writeLegacy, writePlugin } from '../helpers/engine.ts';

afterAll(cleanupTempDirs);

const okPlugin = `import { GenericPromise } from 'vigil/promise';
export default class P extends GenericPromise { sense() { this.logger.info('fine'); } }
`;

function pids(file: string): number[] {
  return readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number);
}

describe('isolation', () => {
  it('a hanging plugin and a hanging legacy promise, each with grandchildren (one in its own session), are killed within timeout + 2 s', async () => {
    const part = tempPartition();
    const pidFile = join(part, 'pids');
    writePlugin(part, 'hang.mjs', `import { GenericPromise } from 'vigil/promise';
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
export default class P extends GenericPromise {
  async sense() {
    const c = spawn('sleep', ['300'], { stdio: 'ignore' });
    // and one that leaves the process group (its own session)
    const d = spawn('sleep', ['301'], { stdio: 'ignore', detached: true });
    appendFileSync(${JSON.stringify(pidFile)}, c.pid + ' ' + d.pid + ' ' + process.pid + ' ');
    await new Promise(() => {}); // never settles
  }
}
`);
    writeLegacy(part, 'hang-legacy', `sleep 300 &\necho $! $$ >> ${pidFile}\nsetsid sleep 301 &\necho $! >> ${pidFile}\nwait`);
    writePlugin(part, 'ok.mjs', okPlugin);
    writeLegacy(part, 'ok-legacy', 'echo fine');
    const timeoutSeconds = 1.5;
    const t0 = performance.now();
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test', timeoutSeconds, concurrency: 4 });
    const elapsed = performance.now() - t0;
    const by = Object.fromEntries(res.results.map((r) => [r.title, r]));
    for (const t of ['hang', 'hang-legacy']) {
      expect(by[t]!.failed).toBe(true);
      expect(by[t]!.message).toMatch(/timed out after 1.5 seconds/);
      expect(by[t]!.executionTimeMs).toBeLessThan(timeoutSeconds * 1000 + 2000);
    }
    expect(by['ok']!.failed).toBe(false);
    expect(by['ok-legacy']!.failed).toBe(false);
    expect(elapsed).toBeLessThan(timeoutSeconds * 1000 + 2000 + 1500); // + runner start-up
    const left = pids(pidFile);
    expect(left).toHaveLength(6); // grandchild in the group, grandchild in its own session, promise process: for both
    const deadline = Date.now() + 2000;
    while (left.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(left.filter(alive)).toEqual([]);
  });

  it('a plugin that crashes its process is reported and the others still run', async () => {
    const part = tempPartition();
    writePlugin(part, 'exits.mjs', `import { GenericPromise } from 'vigil/promise';
export default class P extends GenericPromise { sense() { process.exit(3); } }
`);
    writePlugin(part, 'uncaught.mjs', `import { GenericPromise } from 'vigil/promise';
export default class P extends GenericPromise {
  async sense() { setTimeout(() => { throw new Error('boom from a timer'); }, 1); await new Promise((r) => setTimeout(r, 500)); }
}
`);
    writePlugin(part, 'segv.mjs', `import { GenericPromise } from 'vigil/promise';
export default class P extends GenericPromise { sense() { process.kill(process.pid, 'SIGSEGV'); return new Promise(() => {}); } }
`);
    for (let i = 0; i < 5; i++) writePlugin(part, `ok-${i}.mjs`, okPlugin);
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test', concurrency: 2, timeoutSeconds: 10 });
    const by = Object.fromEntries(res.results.map((r) => [r.title, r]));
    expect(by['exits']!.failed).toBe(true);
    expect(by['exits']!.message).toMatch(/promise process exited with code 3 while running exits\.mjs/);
    expect(by['uncaught']!.failed).toBe(true);
    expect(by['uncaught']!.message).toMatch(/boom from a timer/);
    expect(by['segv']!.failed).toBe(true);
    expect(by['segv']!.message).toMatch(/killed by signal SIGSEGV/);
    for (let i = 0; i < 5; i++) expect(by[`ok-${i}`]).toMatchObject({ failed: false, message: 'fine' });
  });

  it('a legacy promise that starts a daemon in its own session (keeping our stdout) does not hang the run', async () => {
    const part = tempPartition();
    const pidFile = join(part, 'daemon.pid');
    writeLegacy(part, 'starts-daemon', `echo starting\nsetsid sleep 302 &\necho $! > ${pidFile}\necho started`);
    writeLegacy(part, 'other', 'echo fine');
    try {
      const t0 = performance.now();
      const res = await runPartitionPromises({ partitionDir: part, mode: 'test', timeoutSeconds: 20 });
      expect(performance.now() - t0).toBeLessThan(5000);
      const by = Object.fromEntries(res.results.map((r) => [r.title, r]));
      expect(by['starts-daemon']).toMatchObject({ failed: false, message: 'starting\nstarted' });
      expect(by['other']).toMatchObject({ failed: false, message: 'fine' });
    } finally {
      const daemon = Number(readFileSync(pidFile, 'utf8'));
      if (daemon > 0 && alive(daemon)) process.kill(daemon, 'SIGKILL');
    }
  });

  it('a FIFO still held by a daemon is not reused: the next promise gets its own output and ends on time', async () => {
    const part = tempPartition();
    const pidFile = join(part, 'daemon.pid');
    // the daemon ignores SIGPIPE and keeps writing: a reused FIFO would feed the next promise
    // its lines and never end. It writes its pid once in its own session, and the promise
    // waits for that (else, on a loaded machine, the group kill at the exit could take it
    // before its setsid)
    writeLegacy(
      part,
      'a-daemon',
      `readlink /proc/self/fd/1\nsetsid sh -c 'echo $$ > ${pidFile}; trap "" PIPE; while :; do echo LEAK; sleep 0.05; done' &\nwhile [ ! -s ${pidFile} ]; do sleep 0.01; done\necho started`,
    );
    writeLegacy(part, 'b-next', 'sleep 0.3; echo mine; readlink /proc/self/fd/1');
    try {
      const res = await runPartitionPromises({ partitionDir: part, mode: 'test', concurrency: 1, timeoutSeconds: 20 });
      const by = Object.fromEntries(res.results.map((r) => [r.title, r]));
      expect(by['a-daemon']!.failed).toBe(false);
      const [fifoA, ...linesA] = by['a-daemon']!.message.split('\n');
      expect(linesA).toContain('started'); // with the daemon's first lines, maybe
      expect(by['b-next']!.failed).toBe(false);
      const [mine, fifoB, ...rest] = by['b-next']!.message.split('\n');
      expect([mine, rest]).toEqual(['mine', []]);
      expect(fifoB).not.toBe(fifoA);
      expect(by['b-next']!.executionTimeMs).toBeLessThan(5000);
      // it held its FIFO all along
      expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
    } finally {
      const daemon = Number(readFileSync(pidFile, 'utf8'));
      if (daemon > 0 && alive(daemon)) process.kill(daemon, 'SIGKILL');
    }
  });

  it('a runner process that never becomes ready fails the promise at its timeout (no hang)', async () => {
    const part = tempPartition();
    writePlugin(part, 'ok.mjs', okPlugin);
    const runner = join(part, 'stuck-runner.mjs');
    writeFileSync(runner, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(join(part, 'runner.pid'))}, String(process.pid));\nsetInterval(() => {}, 1000);\n`);
    const saved = process.env['VIGIL_PROMISE_RUNNER'];
    process.env['VIGIL_PROMISE_RUNNER'] = runner;
    try {
      const res = await runPartitionPromises({ partitionDir: part, mode: 'test', timeoutSeconds: 1 });
      expect(res.results[0]).toMatchObject({ failed: true, message: 'promise runner did not start within 1 s' });
    } finally {
      if (saved === undefined) delete process.env['VIGIL_PROMISE_RUNNER'];
      else process.env['VIGIL_PROMISE_RUNNER'] = saved;
    }
    const pid = Number(readFileSync(join(part, 'runner.pid'), 'utf8'));
    const deadline = Date.now() + 2000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alive(pid)).toBe(false);
  });
});
