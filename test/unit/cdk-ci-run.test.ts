// .ci/run's Node 24 download on a clean CI machine: no HOME, a HOME that is not a writable
// directory, a broken cached binary, a wrong version. The "registry package" is a local
// tarball shaped like node-linux-<arch> (npm pack accepts a tarball path), so this runs
// offline in about a second; `bash .ci/run --print-node24` does only that part of CI.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
let dir = '';

/** A node-linux-<arch> package tarball whose bin/node prints `v<version>`. */
function fakeNodePackage(version: string): string {
  const pkg = join(dir, `src-${version}`, 'package');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: `node-linux-${arch}`, version }));
  writeFileSync(join(pkg, 'bin', 'node'), `#!/bin/sh\necho v${version}\n`);
  chmodSync(join(pkg, 'bin', 'node'), 0o755);
  writeFileSync(join(pkg, 'LICENSE'), 'MIT\n');
  const tgz = join(dir, `node-${version}.tgz`);
  const r = spawnSync('tar', ['-czf', tgz, '-C', join(pkg, '..'), 'package']);
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  return tgz;
}

/** Runs `.ci/run --print-node24` with only the given environment (plus PATH). */
function printNode24(env: Record<string, string>, args = ['--print-node24']) {
  const r = spawnSync('bash', [join(root, '.ci', 'run'), ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

let node24 = '';
let node22 = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-ci-run-'));
  node24 = fakeNodePackage('24.99.0');
  node22 = fakeNodePackage('22.99.0');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// bash + npm pack child processes: about a second each, more on a loaded machine
describe('.ci/run --print-node24', { timeout: 60_000 }, () => {
  it('without HOME: falls back to a private temp directory, fetches, unpacks and prints a runnable node 24', () => {
    const tmp = join(dir, 'tmp-a');
    mkdirSync(tmp);
    const r = printNode24({ TMPDIR: tmp, VIGIL_CI_NODE24: node24 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/HOME \('unset'\) is not a writable directory/);
    expect(r.stdout).toBe(join(tmp, `vigil-ci-home-${process.getuid?.()}`, '.cache', 'vigil-ci', `node-24.99.0-linux-${arch}`, 'bin', 'node'));
    expect(spawnSync(r.stdout, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe('v24.99.0');
    // nothing half-written is left next to it
    expect(readdirSync(join(r.stdout, '..', '..', '..')).filter((n) => n.startsWith('.partial'))).toEqual([]);

    // HOME that is not a directory (HOME=/dev/null on some CI images): same fallback, and the
    // cached binary is reused without asking the registry again (the spec no longer exists).
    const again = printNode24({ HOME: '/dev/null', TMPDIR: tmp, VIGIL_CI_NODE24: join(dir, 'gone.tgz') });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/HOME \('\/dev\/null'\) is not a writable directory/);
    expect(again.stdout).toBe(r.stdout);
  });

  it('a cached binary that does not run is fetched again; a failed fetch says what to set and leaves nothing behind', () => {
    const cache = join(dir, 'cache-b');
    const first = printNode24({ HOME: join(dir, 'home-b'), VIGIL_CI_CACHE: cache, VIGIL_CI_NODE24: node24 });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout.startsWith(join(cache, 'node-24.99.0'))).toBe(true);
    // a binary that no longer runs (truncated, or unpacked for another machine)
    writeFileSync(first.stdout, '');
    chmodSync(first.stdout, 0o644);

    const failed = printNode24({ HOME: join(dir, 'home-b'), VIGIL_CI_CACHE: cache, VIGIL_CI_NODE24: join(dir, 'gone.tgz') });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/does not run: fetching it again/);
    expect(failed.stderr).toMatch(/could not download .*gone\.tgz/);
    expect(failed.stderr).toMatch(/set VIGIL_CI_NODE24/);
    expect(readdirSync(cache).filter((n) => n.startsWith('.partial'))).toEqual([]);

    const refetched = printNode24({ HOME: join(dir, 'home-b'), VIGIL_CI_CACHE: cache, VIGIL_CI_NODE24: node24 });
    expect(refetched.status, refetched.stderr).toBe(0);
    expect(spawnSync(refetched.stdout, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe('v24.99.0');
  });

  it('refuses a package that is not Node 24, and bad usage exits 2', () => {
    const cache = join(dir, 'cache-c');
    const r = printNode24({ HOME: join(dir, 'home-c'), VIGIL_CI_CACHE: cache, VIGIL_CI_NODE24: node22 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is Node 22\.99\.0, not 24/);
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
    const bad = printNode24({ HOME: join(dir, 'home-c') }, ['--nope']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/usage: bash \.ci\/run/);
  });
});
