// Fixtures for the stock plugin cases ported from slapos.toolbox's own plugin tests
// (slapos/test/promise/plugin/): a launcher-like runner for one stock plugin, certificates made
// with openssl, a collector database made with SQLite, a supervisord, Apache-style logs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stockPlugins } from '../../agent/plugins/index.ts';
import type { GenericPromise } from '../../agent/promise/index.ts';
import { promiseConfig, tempDir, tempPartition } from './engine.ts';

let n = 0;

export interface Launched {
  failed: boolean;
  message: string;
  /** the result type (Test Result / Anomaly Result); undefined when the check did not run */
  type?: string;
  executed: boolean;
  promise: GenericPromise;
}

/**
 * Runs a stock plugin as the reference's launcher does with its config: `runs` times (one
 * promise, one log), in test mode or, with anomaly, in anomaly mode; the last outcome.
 */
export async function launch(
  plugin: string,
  config: Record<string, unknown>,
  opts: { anomaly?: boolean; runs?: number; partition?: string; name?: string; promiseTimeout?: number } = {},
): Promise<Launched> {
  const Cls = stockPlugins[plugin];
  if (!Cls) throw new Error(`no stock plugin ${plugin}`);
  const partition = opts.partition ?? tempPartition();
  const name = opts.name ?? `${plugin}-${n++}.json`;
  let last: Launched | undefined;
  for (let i = 0; i < (opts.runs ?? 1); i++) {
    const promise = new Cls(
      promiseConfig(partition, name, {
        'partition-id': 'slappart0',
        'computer-id': 'COMP-1234',
        'promise-timeout': opts.promiseTimeout ?? 20,
        ...config,
      }),
    );
    const out = await promise.run(opts.anomaly === true);
    last = {
      executed: out.executed,
      failed: out.result?.hasFailed() ?? false,
      message: out.result?.message ?? '',
      ...(out.result ? { type: out.result.type() } : {}),
      promise,
    };
  }
  return last!;
}

/** A self-signed certificate valid `days` days and its key (openssl), as PEM text. */
export function selfSigned(days: number, cn = 'Common'): { cert: string; key: string } {
  const d = tempDir('vigil-ref-cert-');
  const cert = join(d, 'cert.pem');
  const key = join(d, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', String(days), '-subj', `/CN=${cn}`],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

/** A CA, and a server certificate for 127.0.0.1 signed by it (files). */
export function caAndServer(): { caFile: string; certFile: string; keyFile: string; otherCaFile: string } {
  const d = tempDir('vigil-ref-ca-');
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: d, stdio: 'ignore' });
  for (const ca of ['ca', 'other-ca']) {
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '30', '-subj', `/CN=${ca} Root CA`]);
  }
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=testserver.example.com']);
  writeFileSync(join(d, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '30', '-extfile', 'san.ext']);
  return { caFile: join(d, 'ca.pem'), certFile: join(d, 'server.pem'), keyFile: join(d, 'server.key'), otherCaFile: join(d, 'other-ca.pem') };
}

/** Runs SQL on a new SQLite database file (node:sqlite when this Node has it, else the sqlite3 command). */
export async function sqliteExec(file: string, sql: string): Promise<void> {
  try {
    const name = 'node:sqlite';
    const { DatabaseSync } = (await import(name)) as { DatabaseSync: new (f: string) => { exec(s: string): void; close(): void } };
    const db = new DatabaseSync(file);
    db.exec(sql);
    db.close();
    return;
  } catch (err) {
    if (!String(err).includes('node:sqlite') && !String((err as { code?: string }).code).includes('UNKNOWN_BUILTIN')) throw err;
  }
  const r = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
  if (r.error) throw new Error(`sqlite3 is needed for these tests (Debian package 'sqlite3'): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
}

/** A supervisord on a unix socket `sv.sock` in `runDir`, with the given programs (not started). */
export async function startSupervisord(runDir: string, programs: string[]): Promise<{ conf: string; stop: () => Promise<void>; ctl: (...a: string[]) => string }> {
  const conf = join(runDir, 'supervisor.conf');
  writeFileSync(
    conf,
    `[unix_http_server]
file = ${runDir}/sv.sock
[supervisorctl]
serverurl = unix://${runDir}/sv.sock
[supervisord]
logfile = ${runDir}/supervisord.log
pidfile = ${runDir}/supervisord.pid
childlogdir = ${runDir}
nodaemon = true
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
${programs
  .map(
    (p) => `[program:${p}]
command = sleep 10000
autostart = false
autorestart = false
startretries = 0
startsecs = 0
`,
  )
  .join('')}`,
  );
  const sup = spawn('supervisord', ['-c', conf], { stdio: 'ignore', detached: true });
  const ctl = (...a: string[]) => spawnSync('supervisorctl', ['-c', conf, ...a], { encoding: 'utf8' }).stdout;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (/STOPPED/.test(ctl('status', programs[0]!))) break;
    if (Date.now() > deadline) throw new Error(`supervisord did not start: ${ctl('status')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    conf,
    ctl,
    stop: async () => {
      ctl('stop', 'all');
      sup.kill('SIGTERM');
      await new Promise((r) => sup.once('exit', r));
    },
  };
}
