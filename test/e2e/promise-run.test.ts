// `vigil promise run` from the built CLI on the example partitions (copied to temp dirs).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from '../helpers/engine.ts';

const root = resolve(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'vigil.mjs');

function copyExample(name: string): string {
  const d = join(tempDir('vigil-e2e-'), name);
  cpSync(join(root, 'examples', 'partitions', name), d, { recursive: true });
  return d;
}

function vigil(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
});
afterAll(cleanupTempDirs);

describe('vigil promise run', () => {
  it('healthy partition: table of kept promises (stock JSON, custom module, legacy), exit 0', () => {
    const part = copyExample('healthy');
    const r = vigil('promise', 'run', '--partition', part);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+KIND\s+STATUS\s+TIME\s+MESSAGE/);
    expect(r.stdout).toMatch(/config-present\.json\s+test\s+kept/);
    expect(r.stdout).toMatch(/uptime-readable\.mjs\s+test\s+kept\s+\d+ ms\s+up for \d+ s/);
    expect(r.stdout).toMatch(/check-etc-readable \(legacy\)\s+test\s+kept/);
    expect(r.stdout).toMatch(/4 promise\(s\): 4 kept, 0 failed/);
    expect(readdirSync(join(part, '.vigil', 'promise', 'result'))).toHaveLength(4);
    // second run: not due, skipped
    const again = vigil('promise', 'run', '--partition', part, '--json');
    expect(again.code).toBe(0);
    const json = JSON.parse(again.stdout);
    expect(json.results.filter((x: { skipped?: boolean }) => x.skipped)).toHaveLength(4);
  });

  it('failing partition: exit 1, JSON for machines, a bang due in anomaly mode, --console lines', () => {
    const part = copyExample('failing');
    const r = vigil('promise', 'run', '--partition', part, '--json', '--check-anomaly');
    expect(r.code).toBe(1);
    const res = JSON.parse(r.stdout);
    expect(res.ok).toBe(false);
    const by = Object.fromEntries(res.results.map((x: { title: string }) => [x.title, x]));
    expect(by['marker-file']).toMatchObject({ kind: 'anomaly', failed: true, legacy: false });
    expect(by['marker-file'].message).toMatch(/not present/);
    expect(by['always-broken']).toMatchObject({ failed: true, message: 'the backend answered 503 Service Unavailable' });
    expect(by['nagios-warning']).toMatchObject({ legacy: true });
    expect(res.bang).toMatchObject({ due: true, promise: 'always-broken' });

    const c = vigil('promise', 'run', '--partition', part, '--console', '--force', '--run-only', 'nagios-warning,marker-file');
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/\[\d\/2\] nagios-warning: FAILED \(\d+ ms\) WARNING - queue length 120 > 100/);
    expect(c.stderr).toMatch(/\[\d\/2\] marker-file\.json: FAILED/);
    expect(c.stdout).toMatch(/2 promise\(s\): 0 kept, 2 failed/);
  });

  it('a non-executable file in etc/promise is named (table, JSON, --console), the verdict unchanged', () => {
    const part = copyExample('healthy');
    const bad = join(part, 'etc', 'promise', 'not-executable');
    writeFileSync(bad, '#!/bin/sh\necho never\n', { mode: 0o644 });
    const warning = `Bad promise file at '${bad}': not executable (chmod +x it, or move it out of etc/promise); skipped`;
    const table = vigil('promise', 'run', '--partition', part);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`warning: ${warning}`);
    const json = vigil('promise', 'run', '--partition', part, '--json', '--force');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).warnings).toEqual([warning]);
    const con = vigil('promise', 'run', '--partition', part, '--console', '--force');
    expect(con.stderr).toContain(`warning: ${warning}`);
  });

  it('dry run writes nothing; bad usage exits 2 with a message', () => {
    const part = copyExample('healthy');
    const dry = vigil('promise', 'run', '--partition', part, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/\(dry run\)/);
    expect(existsSync(join(part, '.vigil'))).toBe(false);
    for (const args of [
      ['promise', 'run'],
      ['promise', 'run', '--partition', join(part, 'nope')],
      ['promise', 'run', '--partition', part, '--timeout', '0'],
      ['promise', 'run', '--partition', part, '--timeout', '9999999'],
      ['promise'],
      ['promise', 'run', '--partition', part, '--bogus'],
      ['promise', 'run', '--partition', part, '--run-only', 'unknown-title'],
      ['promise', 'walk'],
    ]) {
      const r = vigil(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/vigil promise: .+/);
    }
    expect(existsSync(join(part, '.vigil'))).toBe(false);
    const help = vigil('promise', 'run', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--check-anomaly/);
  });

  it('a hanging legacy promise is killed at --timeout and reported', () => {
    const part = copyExample('healthy');
    const hang = join(part, 'etc', 'promise', 'hang');
    cpSync(join(part, 'etc', 'promise', 'check-etc-readable'), hang);
    execFileSync('sh', ['-c', `printf '#!/bin/sh\\nsleep 60\\n' > ${hang}`]);
    const t0 = Date.now();
    const r = vigil('promise', 'run', '--partition', part, '--timeout', '1', '--json');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.stdout);
    expect(res.results.find((x: { title: string }) => x.title === 'hang').message).toMatch(/timed out after 1 seconds/);
  });

  it('the custom plugin of docs/writing-promises.md runs as written', () => {
    const doc = readFileSync(join(root, 'docs', 'writing-promises.md'), 'utf8');
    const code = /```js\n(\/\/ etc\/plugin\/queue-length\.mjs\n[\s\S]*?)```/.exec(doc)?.[1];
    expect(code, 'the queue-length.mjs example of docs/writing-promises.md').toBeDefined();
    const part = tempDir('vigil-doc-');
    mkdirSync(join(part, 'etc', 'plugin'), { recursive: true });
    mkdirSync(join(part, 'var', 'queue'), { recursive: true });
    writeFileSync(join(part, 'etc', 'plugin', 'queue-length.mjs'), code!);
    for (let i = 0; i < 3; i++) writeFileSync(join(part, 'var', 'queue', `job-${i}`), '');
    const ok = vigil('promise', 'run', '--partition', part);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/queue-length\.mjs\s+test\s+kept\s+\d+ ms\s+queue length 3$/m);
    for (let i = 3; i < 101; i++) writeFileSync(join(part, 'var', 'queue', `job-${i}`), '');
    // the debugging command of the doc (section 5)
    const bad = vigil('promise', 'run', '--partition', part, '--run-only', 'queue-length', '--force', '--console');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/\[1\/1\] queue-length\.mjs: FAILED \(\d+ ms\) queue length 101 > 100/);
    expect(readFileSync(join(part, '.vigil', 'promise', 'log', 'queue-length.log'), 'utf8')).toMatch(/"level":"ERROR".*queue length 101 > 100/);
  });

  it('on a terminal, a progress line runs on stderr while promises run, then the table', () => {
    const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' });
    if (hasScript.error) throw new Error("'script' is missing: install the Debian package 'bsdutils'");
    const part = tempDir('vigil-tty-');
    mkdirSync(join(part, 'etc', 'promise'), { recursive: true });
    const slow = join(part, 'etc', 'promise', 'slow');
    writeFileSync(slow, '#!/bin/sh\nsleep 0.6\necho done\n', { mode: 0o755 });
    const cmd = [process.execPath, cli, 'promise', 'run', '--partition', part].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // the spinner turned (several frames) naming the running promise, and was erased
    const frames = r.stdout.match(/\r\x1b\[2K. running promises: 0\/1 done · slow/g) ?? [];
    expect(frames.length).toBeGreaterThanOrEqual(3);
    expect(r.stdout).toMatch(/\r\x1b\[2K\r?\n?NAME\s+KIND\s+STATUS/);
    expect(r.stdout).toMatch(/slow \(legacy\)\s+test\s+kept\s+\d+ ms\s+done/);
  });
});
