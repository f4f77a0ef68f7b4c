// Launcher behaviours that follow slapos.core's promise launcher (issue 9): legacy output in
// the order written, a first timeout tolerated in anomaly mode, non-executable files in
// etc/promise named instead of skipped silently. Real runner processes, real executables.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPartitionPromises } from '../../agent/engine/index.ts';
import { alive, cleanupTempDirs, tempPartition, writeLegacy, writePlugin } from '../helpers/engine.ts';

afterAll(cleanupTempDirs);

describe('legacy promise output', () => {
  it('stdout and stderr arrive in one stream, in the order written (o1 e2 o3 e4)', async () => {
    const part = tempPartition();
    // small pauses make the interleaving observable: with two pipes the streams are read
    // separately and regrouped
    writeLegacy(part, 'mixed', 'echo o1; sleep 0.05; echo e2 >&2; sleep 0.05; echo o3; sleep 0.05; echo e4 >&2; exit 1');
    writeLegacy(part, 'burst', 'echo o1; echo e2 >&2; echo o3; echo e4 >&2; printf "o5\\n"; printf "e6\\n" >&2');
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    const by = Object.fromEntries(res.results.map((r) => [r.title, r]));
    expect(by['mixed']).toMatchObject({ failed: true, message: 'o1\ne2\no3\ne4' });
    expect(by['burst']).toMatchObject({ failed: false, message: 'o1\ne2\no3\ne4\no5\ne6' });
    // the promise's own log keeps the same text
    const line = JSON.parse(readFileSync(join(part, '.vigil', 'promise', 'log', 'mixed.log'), 'utf8').trim().split('\n').at(-1)!);
    expect(line.message).toBe('o1\ne2\no3\ne4');
  });

  it('writing to /dev/stderr or /dev/stdout by path works: the child gets a real pipe (a FIFO), as in the reference', async () => {
    const part = tempPartition();
    // with a socket as stdout, open("/dev/stderr") fails with ENXIO and `set -e` fails the promise
    writeLegacy(part, 'by-path', 'set -e\necho hello > /dev/stderr\necho done');
    writeLegacy(
      part,
      'reopens',
      'set -e\necho o1 > /dev/stdout\necho e2 > /dev/stderr\nexec 2>/dev/stdout\necho o3\necho e4 >&2\n[ -p /dev/stdout ] && [ -p /dev/stderr ]\necho end',
    );
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    const by = Object.fromEntries(res.results.map((r) => [r.title, r]));
    expect(by['by-path']).toMatchObject({ failed: false, message: 'hello\ndone' });
    expect(by['reopens']).toMatchObject({ failed: false, message: 'o1\ne2\no3\ne4\nend' });
    expect(res.warnings).toEqual([]);
  });

  it('several MiB of output on both streams are read through (no deadlock), the end kept', async () => {
    const part = tempPartition();
    writeLegacy(
      part,
      'big',
      "set -e\nhead -c 4194304 /dev/zero | tr '\\0' a\necho\nhead -c 4194304 /dev/zero | tr '\\0' b > /dev/stderr\necho >&2\necho LAST LINE",
    );
    writeLegacy(part, 'small', 'echo small');
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test', timeoutSeconds: 60 });
    const by = Object.fromEntries(res.results.map((r) => [r.title, r]));
    expect(by['big']!.failed).toBe(false);
    expect(by['big']!.message).toMatch(/^b+\nLAST LINE$/);
    expect(by['small']).toMatchObject({ failed: false, message: 'small' });
  });

  it('many legacy promises at once each get their own output, through a few reused FIFOs removed after the run', async () => {
    const part = tempPartition();
    const title = (i: number) => `p${String(i).padStart(2, '0')}`;
    for (let i = 0; i < 50; i++) {
      writeLegacy(part, title(i), `echo out-${i}; echo err-${i} > /dev/stderr; echo mid-${i} >&2; readlink /proc/self/fd/1; echo end-${i}`);
    }
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test', concurrency: 8 });
    const fifos = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const r = res.results.find((x) => x.title === title(i))!;
      expect(r.failed).toBe(false);
      const lines = r.message.split('\n');
      expect([lines[0], lines[1], lines[2], lines[4], lines.length]).toEqual([`out-${i}`, `err-${i}`, `mid-${i}`, `end-${i}`, 5]);
      fifos.add(lines[3]!);
    }
    // one FIFO per worker at most, in one private dir, gone with the run
    expect(fifos.size).toBeGreaterThanOrEqual(1);
    expect(fifos.size).toBeLessThanOrEqual(8);
    const dirs = new Set([...fifos].map((f) => dirname(f)));
    expect(dirs.size).toBe(1);
    const [dir] = [...dirs];
    expect(basename(dir!)).toMatch(/^vigil-fifo-/);
    expect(existsSync(dir!)).toBe(false);
  });

  it('after a timeout the killed promise\'s FIFO serves the next promise, and none is left behind', async () => {
    const part = tempPartition();
    const pidFile = join(part, 'grandchild.pid');
    writeLegacy(part, 'a-hangs', `echo before\nsleep 300 &\necho $! > ${pidFile}\nwait`);
    writeLegacy(part, 'b-after', 'echo after > /dev/stderr; readlink /proc/self/fd/2');
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test', concurrency: 1, timeoutSeconds: 3 });
    const by = Object.fromEntries(res.results.map((r) => [r.title, r]));
    expect(by['a-hangs']!.failed).toBe(true);
    expect(by['a-hangs']!.message).toMatch(/^Error: Promise timed out after 3 seconds \(process group killed\)\nbefore$/);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    const deadline = Date.now() + 2000;
    while (alive(grandchild) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(grandchild)).toBe(false);
    expect(by['b-after']!.failed).toBe(false);
    const [line, fifo] = by['b-after']!.message.split('\n');
    expect(line).toBe('after');
    expect(basename(dirname(fifo!))).toMatch(/^vigil-fifo-/);
    expect(existsSync(dirname(fifo!))).toBe(false);
  });

  it('when no FIFO can be made (unusable temp dir), stdout and stderr are read as two streams, with a warning', async () => {
    const part = tempPartition();
    writeLegacy(part, 'plain', 'echo out; echo err >&2');
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = join(part, 'no-such-dir');
    try {
      const res = await runPartitionPromises({ partitionDir: part, mode: 'test' });
      expect(res.results[0]!.failed).toBe(false);
      expect(res.results[0]!.message.split('\n').sort()).toEqual(['err', 'out']);
      expect(res.warnings).toEqual([expect.stringMatching(/^legacy promise output: cannot make the output pipes .*two streams/)]);
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
    }
  });
});

describe('timeouts in anomaly mode (reference launcher rule)', () => {
  const hanging = `import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GenericPromise } from 'vigil/promise';
export default class P extends GenericPromise {
  async sense() {
    if (existsSync(join(this.getPartitionFolder(), 'hang'))) await new Promise(() => {});
    this.logger.info('answered');
  }
  anomaly() { return this._anomaly({ resultCount: 1, failureAmount: 1 }); }
}
`;

  it('a first timeout is tolerated (an anomaly result, kept); a second in a row fails; never a bang', async () => {
    const part = tempPartition();
    writePlugin(part, 'slow.mjs', hanging);
    writeLegacy(part, 'slow-legacy', '[ -e hang ] && sleep 30; echo legacy answered');
    // 3 s: the runner processes start from the TypeScript sources within the promise timeout
    const run = () => runPartitionPromises({ partitionDir: part, mode: 'anomaly', force: true, timeoutSeconds: 3 });
    const ok = await run();
    expect(ok.results.every((r) => !r.failed)).toBe(true);
    writeFileSync(join(part, 'hang'), '');
    const first = await run();
    for (const r of first.results) {
      expect(r, r.title).toMatchObject({ failed: false, message: expect.stringMatching(/^Error: Promise timed out after 3 seconds/) });
    }
    const saved = JSON.parse(readFileSync(join(part, '.vigil', 'promise', 'result', 'slow.status.json'), 'utf8'));
    expect(saved.result).toMatchObject({ type: 'Anomaly Result', failed: false });
    const second = await run();
    for (const r of second.results) expect(r, r.title).toMatchObject({ failed: true, message: expect.stringMatching(/^Error: Promise timed out/) });
    expect(second.bang).toEqual({ due: false });
  });

  it('a timeout after a failed result fails at once; in test mode a timeout always fails', async () => {
    const part = tempPartition();
    writePlugin(
      part,
      'flaky.mjs',
      hanging.replace("this.logger.info('answered');", "this.logger.error('service down');"),
    );
    const failed = await runPartitionPromises({ partitionDir: part, mode: 'anomaly', force: true, timeoutSeconds: 3 });
    expect(failed.results[0]).toMatchObject({ failed: true, message: 'service down' });
    writeFileSync(join(part, 'hang'), '');
    const timedOut = await runPartitionPromises({ partitionDir: part, mode: 'anomaly', force: true, timeoutSeconds: 3 });
    expect(timedOut.results[0]).toMatchObject({ failed: true, message: expect.stringMatching(/timed out/) });
    const fresh = tempPartition();
    writePlugin(fresh, 'slow.mjs', hanging);
    writeFileSync(join(fresh, 'hang'), '');
    const test = await runPartitionPromises({ partitionDir: fresh, mode: 'test', timeoutSeconds: 3 });
    expect(test.results[0]).toMatchObject({ failed: true, message: expect.stringMatching(/timed out/) });
  });
});

describe('a file in etc/promise that cannot run', () => {
  it('is named in the run result as a warning (the reference warns), the others run, the verdict is unchanged', async () => {
    const part = tempPartition();
    writeLegacy(part, 'good', 'echo fine');
    const notExec = join(part, 'etc', 'promise', 'forgot-chmod');
    writeFileSync(notExec, '#!/bin/sh\necho never runs\n');
    chmodSync(notExec, 0o644);
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    expect(res.ok).toBe(true);
    expect(res.results.map((r) => r.title)).toEqual(['good']);
    expect(res.warnings).toEqual([`Bad promise file at '${notExec}': not executable (chmod +x it, or move it out of etc/promise); skipped`]);
    chmodSync(notExec, 0o755);
    const fixed = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    expect(fixed.results.map((r) => r.title)).toEqual(['forgot-chmod', 'good']);
    expect(fixed.warnings).toEqual([]);
  });
});

describe('two promises with one title', () => {
  it('both are reported (the second as a duplicate) and the run does not crash on their one status file', async () => {
    for (let i = 0; i < 20; i++) {
      const part = tempPartition();
      writePlugin(part, 'dup.json', '{"plugin": ');
      writeLegacy(part, 'dup.json', 'echo legacy');
      writeLegacy(part, 'other', 'echo other');
      const res = await runPartitionPromises({ partitionDir: part, mode: 'test' });
      expect(res.results.map((r) => [r.name, r.failed])).toEqual([
        ['dup.json', true],
        ['dup.json', true],
        ['other', false],
      ]);
      expect(res.results[1]!.message).toMatch(/duplicate promise title 'dup'/);
    }
  });
});
