// Launcher behaviours that follow slapos.core's promise launcher (issue 9): legacy output in
// the order written, a first timeout tolerated in anomaly mode, non-executable files in
// etc/promise named instead of skipped silently. Real runner processes, real executables.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPartitionPromises } from '../../agent/engine/index.ts';
import { cleanupTempDirs, tempPartition, writeLegacy, writePlugin } from '../helpers/engine.ts';

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

  it('many legacy promises at once each get their own output', async () => {
    const part = tempPartition();
    for (let i = 0; i < 12; i++) writeLegacy(part, `p${String(i).padStart(2, '0')}`, `echo out-${i}; echo err-${i} >&2; echo end-${i}`);
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test', concurrency: 4 });
    for (let i = 0; i < 12; i++) {
      expect(res.results.find((r) => r.title === `p${String(i).padStart(2, '0')}`)?.message).toBe(`out-${i}\nerr-${i}\nend-${i}`);
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
