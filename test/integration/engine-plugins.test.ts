// Stock plugins against real things: HTTP(S) servers with a self-signed certificate made
// here with openssl, TCP and unix sockets, files, the disk, supervisord.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createServer as createNet } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPartitionPromises } from '../../agent/engine/index.ts';
import { stockPlugins } from '../../agent/plugins/index.ts';
import type { GenericPromise } from '../../agent/promise/index.ts';
import { cleanupTempDirs, promiseConfig, tempDir, tempPartition, writeStock } from '../helpers/engine.ts';

const part = tempPartition();
const certDir = tempDir('vigil-cert-');
const servers: Server[] = [];
let httpUrl = '';
let httpsUrl = '';

function listen(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

function makeCert(name: string, days: number): { cert: string; key: string } {
  const cert = join(certDir, `${name}.pem`);
  const key = join(certDir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', String(days),
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
  if (req.url === '/redirect') {
    res.writeHead(302, { location: '/ok' });
    res.end();
  } else if (req.url === '/auth') {
    const ok = req.headers.authorization === `Basic ${Buffer.from('admin:s3cret').toString('base64')}`;
    res.writeHead(ok ? 200 : 401);
    res.end();
  } else if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
  } else if (req.url === '/health-bad') {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"status":"degraded"}');
  } else if (req.url === '/slow') {
    // never answers (the server's close() below ends it)
  } else if (req.url === '/ok') {
    res.end('hello');
  } else {
    res.writeHead(500);
    res.end('broken');
  }
};

let tls: { cert: string; key: string };
beforeAll(async () => {
  tls = makeCert('server', 30);
  httpUrl = `http://127.0.0.1:${await listen(createHttp(handler))}`;
  const { readFileSync } = await import('node:fs');
  httpsUrl = `https://127.0.0.1:${await listen(createHttps({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler))}`;
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  cleanupTempDirs();
});

let n = 0;
/** Runs a stock plugin in-process (sense + test) and returns its result. */
async function check(plugin: string, config: Record<string, unknown>): Promise<{ failed: boolean; message: string }> {
  const Cls = stockPlugins[plugin]!;
  const p: GenericPromise = new Cls(promiseConfig(part, `${plugin}-${n++}.json`, config));
  const out = await p.run(false);
  return { failed: out.result!.hasFailed(), message: out.result!.message };
}

/** The same promise (same title, same log) run `times` times in anomaly mode; the last outcome. */
async function anomalyRuns(plugin: string, config: Record<string, unknown>, times: number) {
  const name = `${plugin}-${n++}.json`;
  let out: Awaited<ReturnType<GenericPromise['run']>> | undefined;
  for (let i = 0; i < times; i++) out = await new (stockPlugins[plugin]!)(promiseConfig(part, name, config)).run(true);
  return out!;
}

describe('check-url-available', () => {
  it('checks code, redirects, auth, TLS verification against real servers', async () => {
    expect(await check('check-url-available', { url: `${httpUrl}/ok` })).toMatchObject({ failed: false });
    const bad = await check('check-url-available', { url: `${httpUrl}/nope` });
    expect(bad).toMatchObject({ failed: true });
    expect(bad.message).toBe(`non-authenticated request to '${httpUrl}/nope' failed (returned 500, expected 200)`);
    expect(await check('check-url-available', { url: `${httpUrl}/nope`, 'http-code': 500 })).toMatchObject({ failed: false });
    expect(await check('check-url-available', { url: `${httpUrl}/nope`, 'ignore-code': '1' })).toMatchObject({ failed: false });
    expect(await check('check-url-available', { url: `${httpUrl}/redirect` })).toMatchObject({ failed: false });
    const noFollow = await check('check-url-available', { url: `${httpUrl}/redirect`, 'allow-redirects': '0' });
    expect(noFollow.message).toMatch(/returned 302/);
    expect((await check('check-url-available', { url: `${httpUrl}/auth` })).failed).toBe(true);
    expect(await check('check-url-available', { url: `${httpUrl}/auth`, username: 'admin', password: 's3cret' })).toEqual({
      failed: false,
      message: `authenticated request to '${httpUrl}/auth' succeeded (returned expected code 200)`,
    });
    expect((await check('check-url-available', { url: `${httpUrl}/nope`, 'ignore-code': 1 })).message).toMatch(/return code ignored/);
    // self-signed: fine without verify (the reference default), refused with verify, fine with its CA
    expect(await check('check-url-available', { url: `${httpsUrl}/ok` })).toMatchObject({ failed: false });
    const verified = await check('check-url-available', { url: `${httpsUrl}/ok`, verify: '1' });
    expect(verified.failed).toBe(true);
    expect(verified.message).toMatch(/^ERROR SSL error while accessing .*CERTIFICATE_VERIFY_FAILED/);
    expect(await check('check-url-available', { url: `${httpsUrl}/ok`, 'ca-cert-file': tls.cert })).toMatchObject({ failed: false });
    // nothing listening
    const srv = createNet();
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    await new Promise((r) => srv.close(r));
    const refused = await check('check-url-available', { url: `http://127.0.0.1:${port}/` });
    expect(refused.failed).toBe(true);
    expect(refused.message).toMatch(/connection not possible.*ECONNREFUSED/);
    expect((await check('check-url-available', {})).message).toBe(
      "ERROR: Invalid URL 'None': No scheme supplied. Perhaps you meant https://None? (config 'url' is not set)",
    );
    expect((await check('check-url-available', { url: 'ftp://127.0.0.1/' })).message).toBe("ERROR: No connection adapters were found for 'ftp://127.0.0.1/'");
  });

  it('a server that never answers: the request gives up before the promise timeout (reference default)', async () => {
    const p = tempPartition();
    writeStock(p, 'slow', 'check-url-available', { url: `${httpUrl}/slow` });
    const res = await runPartitionPromises({ partitionDir: p, mode: 'test', timeoutSeconds: 2 });
    // default request timeout = max(1, min(5, promise-timeout - 1)) = 1 s here; a server that
    // accepted the connection and never answers is python-requests' ReadTimeout
    expect(res.results[0]!.failed).toBe(true);
    expect(res.results[0]!.message).toMatch(/^ERROR: HTTPConnectionPool\(host='127\.0\.0\.1', port=\d+\): Read timed out\. \(read timeout=1\)$/);
  });
});

describe('check-socket-listening', () => {
  it('tcp host+port and unix pathname; wrong address forms', async () => {
    const tcp = createNet();
    servers.push(tcp as unknown as Server);
    const port = await new Promise<number>((r) => tcp.listen(0, '127.0.0.1', () => r((tcp.address() as { port: number }).port)));
    const sock = join(tempDir(), 's.sock');
    const unix = createNet();
    servers.push(unix as unknown as Server);
    await new Promise<void>((r) => unix.listen(sock, () => r()));
    // test mode is the strict default 1/1 (like the reference; 3/3 is the anomaly's)
    expect(await check('check-socket-listening', { host: '127.0.0.1', port })).toMatchObject({ failed: false });
    expect(await check('check-socket-listening', { pathname: sock })).toMatchObject({ failed: false });
    const none = join(tempDir(), 'none.sock');
    const missing = await check('check-socket-listening', { pathname: none });
    expect(missing).toMatchObject({ failed: true, message: `FileNotFoundError: [Errno 2] No such file or directory; address '${none}'` });
    expect((await check('check-socket-listening', { host: '127.0.0.1' })).message).toMatch(/^Address must be specified/);
    expect((await check('check-socket-listening', { host: 'no-such-host.invalid', port: 80 })).message).toBe('[Errno -2] Name or service not known');
    // anomaly: 3 failed runs of 3 (result-count / failure-amount), as an AnomalyResult
    const cfg = { pathname: none };
    expect((await anomalyRuns('check-socket-listening', cfg, 2)).result!.hasFailed()).toBe(false);
    expect(await anomalyRuns('check-socket-listening', cfg, 3)).toMatchObject({ bang: true });
    expect((await anomalyRuns('check-socket-listening', { ...cfg, 'result-count': 1, 'failure-amount': 1 }, 1)).bang).toBe(true);
  });
});

describe('check-command-execute, check-file-state, check-free-disk-space', () => {
  it('command exit status and output', async () => {
    expect(await check('check-command-execute', { command: 'true' })).toMatchObject({ failed: false });
    const r = await check('check-command-execute', { command: 'echo oops; exit 4' });
    expect(r.failed).toBe(true);
    expect(r.message).toBe("ERROR 'echo oops; exit 4' run with failure, output: b'oops\\n' (exit code 4)");
  });

  it('command output is one real pipe: /dev/stderr and /dev/stdout work, order kept', async () => {
    const ok = await check('check-command-execute', { command: 'set -e; echo o1 > /dev/stdout; echo e2 > /dev/stderr; echo o3' });
    expect(ok).toMatchObject({ failed: false });
    const command = 'echo o1; sleep 0.05; echo e2 > /dev/stderr; sleep 0.05; echo o3; sleep 0.05; echo e4 >&2; exit 3';
    const r = await check('check-command-execute', { command });
    expect(r.failed).toBe(true);
    expect(r.message).toContain("output: b'o1\\ne2\\no3\\ne4\\n' (exit code 3)");
  });

  it('file states absent, empty, not-empty', async () => {
    const d = tempDir();
    const empty = join(d, 'empty');
    const full = join(d, 'full');
    writeFileSync(empty, '');
    writeFileSync(full, 'x');
    expect(await check('check-file-state', { filename: join(d, 'no'), state: 'absent' })).toMatchObject({ failed: false });
    expect((await check('check-file-state', { filename: full, state: 'absent' })).failed).toBe(true);
    expect(await check('check-file-state', { filename: empty, state: 'empty' })).toMatchObject({ failed: false });
    expect((await check('check-file-state', { filename: full, state: 'empty' })).message).toBe(`ERROR '${full}' not empty`);
    expect((await check('check-file-state', { filename: full, state: 'empty', url: 'https://x/full' })).message).toMatch(
      /not empty, content available at https:\/\/x\/full$/,
    );
    expect(await check('check-file-state', { filename: full, state: 'not-empty' })).toMatchObject({ failed: false });
    expect((await check('check-file-state', { filename: empty, state: 'not-empty' })).message).toMatch(/empty/);
    expect((await check('check-file-state', { filename: full, state: 'weird' })).message).toMatch(/must be absent, empty or not-empty/);
    // a relative filename is in the partition, whatever the process's cwd (here the repo)
    mkdirSync(join(part, 'var'), { recursive: true });
    writeFileSync(join(part, 'var', 'ready'), 'yes');
    expect(await check('check-file-state', { filename: 'var/ready', state: 'not-empty' })).toEqual({ failed: false, message: "OK 'var/ready' state 'not-empty'" });
  });

  it('free disk space now (vigil, no collector database): thresholds in GB, percent and inodes', async () => {
    expect(await check('check-free-disk-space', { path: part, 'threshold-percent': 0.001 })).toMatchObject({ failed: false });
    const gb = await check('check-free-disk-space', { path: part, threshold: 1e9 });
    expect(gb.failed).toBe(true);
    expect(gb.message).toMatch(/^Free disk space low: remaining [\d.]+ G \(disk size: \d+ G, threshold: 1000000000 G\)\. \(/);
    expect((await check('check-free-disk-space', { path: part, 'threshold-percent': 100.1 })).message).toMatch(
      /^Free disk space low: remaining [\d.]+ G \(disk size: \d+ G, threshold: \d+ G\)\./,
    );
    expect((await check('check-free-disk-space', { path: part, 'threshold-percent': 0.001, 'inode-threshold-percent': 0 })).message).toMatch(
      /^Disk Inodes usage is really high: \d+\.\d{4}%/,
    );
    expect((await check('check-free-disk-space', { path: part })).message).toMatch(/^Current disk usage: OK \(/);
  });

  it('free disk space: reference defaults (every 60 min; anomaly 3/3 that never bangs)', async () => {
    const p = new (stockPlugins['check-free-disk-space']!)(promiseConfig(part, 'disk.json', {}));
    expect(p.getPeriodicity()).toBe(60);
    expect(new (stockPlugins['check-free-disk-space']!)(promiseConfig(part, 'disk.json', { frequency: 10 })).getPeriodicity()).toBe(10);
    const full = { path: part, threshold: 1e9 };
    expect((await anomalyRuns('check-free-disk-space', full, 2)).result!.hasFailed()).toBe(false);
    const third = await anomalyRuns('check-free-disk-space', full, 3);
    expect(third.result!.hasFailed()).toBe(true);
    expect(third.result!.type()).toBe('Test Result');
    expect(third.bang).toBe(false);
  });
});

describe('check-certificate and check-error-on-http-log', () => {
  it('certificate expiry against certificate-expiration-days (15) and key match', async () => {
    const soon = makeCert('soon', 5);
    expect(await check('check-certificate', { certificate: tls.cert, key: tls.key })).toMatchObject({ failed: false });
    const r = await check('check-certificate', { certificate: soon.cert });
    expect(r.failed).toBe(true);
    expect(r.message).toMatch(/^ERROR Certificate '.+soon\.pem' will expire in less than 15 days \(in [45]\.\d days/);
    expect(await check('check-certificate', { certificate: soon.cert, 'certificate-expiration-days': 2 })).toMatchObject({ failed: false });
    expect((await check('check-certificate', { certificate: tls.cert, key: soon.key })).message).toMatch(/Certificate '.+' does not match key/);
    expect((await check('check-certificate', { certificate: join(certDir, 'none.pem') })).message).toMatch(/Problem loading certificate/);
  });

  it('http log errors within maximum-delay', async () => {
    const log = join(tempDir(), 'error.log');
    const fmt = (d: Date) => {
      const s = d.toString().split(' '); // Wed Oct 11 2023 14:32:52 GMT...
      return `${s[0]} ${s[1]} ${s[2]} ${s[4]}.123456 ${s[3]}`;
    };
    const old = new Date(Date.now() - 3600_000);
    const recent = new Date(Date.now() - 5_000);
    writeFileSync(
      log,
      [
        `[${fmt(old)}] [proxy_http:error] [pid 1] (110)Connection timed out: AH00957: backend down`,
        `[${fmt(recent)}] [proxy:error] [pid 2] (113)No route to host: AH00957: attempt to connect failed`,
        `[${fmt(recent)}] [error] [pid 4] some other error`,
        `[${fmt(recent)}] [ssl:warn] [pid 3] not an error`,
        '',
      ].join('\n'),
    );
    // no test at instantiation (setTestLess, as the reference): nothing runs in test mode
    const testMode = await new (stockPlugins['check-error-on-http-log']!)(promiseConfig(part, 'http-log.json', { 'log-file': log })).run(false);
    expect(testMode).toEqual({ executed: false, bang: false });
    const anomaly = async (config: Record<string, unknown>) => (await anomalyRuns('check-error-on-http-log', config, 1)).result!.message;
    // Apache 2.4 levels count too (vigil): the old proxy_http timeout, the recent proxy no-route, the recent [error]
    expect(await anomaly({ 'log-file': log })).toMatch(/^ERROR=3 \(NOROUTE=1, UNREACHABLENET=0, TIMEOUT=1\); last: \[pid 4\] some other error$/);
    // the newest lines first, stopping at the first one older than maximum-delay
    expect(await anomaly({ 'log-file': log, 'maximum-delay': 60 })).toMatch(/^ERROR=2 \(NOROUTE=1, UNREACHABLENET=0, TIMEOUT=0\)/);
    expect(await anomaly({ 'log-file': log, 'maximum-delay': 1 })).toBe('OK');
    expect(await anomaly({ 'log-file': join(tempDir(), 'none.log') })).toBe('OK');
    expect(new (stockPlugins['check-error-on-http-log']!)(promiseConfig(part, 'x.json', { 'log-file': log })).getPeriodicity()).toBe(720);
    // anomaly: 2 failed runs of 2 within 3 periods, an AnomalyResult (bangs, as the reference)
    const cfg = { 'log-file': log };
    expect((await anomalyRuns('check-error-on-http-log', cfg, 1)).result!.hasFailed()).toBe(false);
    const second = await anomalyRuns('check-error-on-http-log', cfg, 2);
    expect(second.result!.hasFailed()).toBe(true);
    expect(second.bang).toBe(true);
  });
});

describe('check-service-state (real supervisord)', () => {
  it('running / stopped against supervisorctl', async () => {
    const has = spawnSync('supervisord', ['--version'], { stdio: 'ignore' });
    if (has.error) throw new Error("supervisord is missing: install the Debian package 'supervisor'");
    const d = tempDir('vigil-sup-');
    const conf = join(d, 'supervisord.conf');
    writeFileSync(
      conf,
      `[unix_http_server]
file=${d}/s.sock
[supervisord]
logfile=${d}/supervisord.log
pidfile=${d}/supervisord.pid
childlogdir=${d}
nodaemon=true
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://${d}/s.sock
[program:web]
command=sleep 300
autostart=true
startsecs=0
[program:idle]
command=sleep 300
autostart=false
`,
    );
    const sup = spawn('supervisord', ['-c', conf], { stdio: 'ignore', detached: true });
    try {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const r = spawnSync('supervisorctl', ['-c', conf, 'status', 'web'], { encoding: 'utf8' });
        if (/RUNNING/.test(r.stdout)) break;
        if (Date.now() > deadline) throw new Error(`supervisord did not start: ${r.stdout}${r.stderr}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(await check('check-service-state', { service: 'web', expect: 'running', 'supervisord-config': conf })).toMatchObject({ failed: false });
      // expect unset: any state is fine (reference)
      expect(await check('check-service-state', { service: 'idle', 'supervisord-config': conf })).toMatchObject({
        failed: false,
        message: "OK service 'idle' is allowed to be in any state (expect = '')",
      });
      const idle = await check('check-service-state', { service: 'idle', expect: 'running', 'supervisord-config': conf });
      expect(idle.failed).toBe(true);
      expect(idle.message).toMatch(/^ERROR service 'idle' is in state 'stopped' \(expected 'running'\)/);
      expect(await check('check-service-state', { service: 'idle', expect: 'stopped', 'server-url': `unix://${d}/s.sock` })).toMatchObject({ failed: false });
      expect((await check('check-service-state', { service: 'ghost', expect: 'running', 'supervisord-config': conf })).message).toBe(
        `ERROR <Fault 10: 'BAD_NAME: ghost'> (supervisord at ${conf})`,
      );
      // no supervisord where run-directory says: the reference's repr of the error
      expect((await check('check-service-state', { service: 'web', expect: 'running', 'run-directory': d, 'supervisord-config': conf })).message).toBe(
        `ERROR FileNotFoundError(2, 'No such file or directory') (supervisord at unix://${d}/sv.sock)`,
      );
      // and through the engine, as a JSON stock plugin in a partition
      const p = tempPartition();
      writeStock(p, 'web-running', 'check-service-state', { service: 'web', expect: 'running', 'supervisord-config': conf });
      const res = await runPartitionPromises({ partitionDir: p, mode: 'test' });
      expect(res.results[0]).toMatchObject({ name: 'web-running.json', failed: false });
    } finally {
      sup.kill('SIGTERM');
      await new Promise((r) => sup.once('exit', r));
    }
  });
});

describe('examples/promises', () => {
  it('check-json-health.mjs, copied into a partition, works as its comments say', async () => {
    const p = tempPartition();
    copyFileSync(join(import.meta.dirname, '..', '..', 'examples', 'promises', 'check-json-health.mjs'), join(p, 'etc', 'plugin', 'check-json-health.mjs'));
    writeFileSync(join(p, 'etc', 'health-url'), `${httpUrl}/health\n`);
    const ok = await runPartitionPromises({ partitionDir: p, mode: 'test' });
    expect(ok.results[0]).toMatchObject({ title: 'check-json-health', failed: false, message: `${httpUrl}/health is healthy`, periodicityMinutes: 1 });
    writeFileSync(join(p, 'etc', 'health-url'), `${httpUrl}/health-bad\n`);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await runPartitionPromises({ partitionDir: p, mode: 'anomaly', force: true }));
    expect(results[1]!.results[0]!.failed).toBe(false); // 2 failed runs of 3: tolerated
    expect(results[2]!.results[0]).toMatchObject({ failed: true, message: `3 failed runs, last: ${httpUrl}/health-bad answered 503 {"status":"degraded"}` });
    expect(results[2]!.bang).toMatchObject({ due: true, promise: 'check-json-health' });
  });
});
