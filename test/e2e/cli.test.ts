// The `vigil` dispatcher as a user meets it: usage, unknown commands, version, exit codes.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/vigil.mjs');

beforeAll(() => {
  if (!existsSync(cli)) execFileSync('node', ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
});

const run = (...args: string[]) => spawnSync('node', [cli, ...args], { cwd: root, encoding: 'utf8' });

it('no command: usage on stderr, exit 2', () => {
  const r = run();
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain('usage: vigil <command>');
});

it('--help lists every command of SPEC §4 on stdout, exit 0', () => {
  const r = run('--help');
  expect(r.status).toBe(0);
  for (const c of ['master', 'agent', 'promise', 'watchdog', 'supervisord-config', 'admin']) expect(r.stdout).toContain(c);
});

it('an unknown command is bad usage (exit 2) and is named', () => {
  const r = run('frobnicate');
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("unknown command 'frobnicate'");
});

it('every command answers --help with exit 0', () => {
  for (const c of ['master', 'agent', 'watchdog', 'supervisord-config', 'admin']) {
    const r = run(c, '--help');
    expect(r.status, `${c} --help: ${r.stderr}`).toBe(0);
    expect(r.stdout.toLowerCase()).toContain('usage');
  }
  const p = run('promise', 'run', '--help');
  expect(p.status).toBe(0);
  expect(p.stdout).toContain('--partition');
});
