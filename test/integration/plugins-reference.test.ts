// The cases of slapos.toolbox's own tests of its promise plugins (slapos/test/promise/plugin/
// test_check_*.py), ported to vigil's stock plugins (SPEC §2: same keys, same defaults, same
// verdict, messages starting with the reference's text). Each `it` names the reference test it
// ports; a case with several configurations (or the SameFile variant of the certificate
// tests) checks each. The plugins run as the launcher runs them (sense + test, or anomaly),
// against real things: HTTPS servers with openssl-made certificates, sockets, files, a
// SQLite collector database, a real supervisord, Apache-style logs shaped like the reference's samples.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttps } from 'node:https';
import type { Server } from 'node:net';
import { createServer as createNet } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPartitionPromises } from '../../agent/engine/index.ts';
import { readTail, TAIL_BYTES } from '../../agent/plugins/check-error-on-http-log.ts';
import { cleanupTempDirs, tempDir, tempPartition, writeStock } from '../helpers/engine.ts';
import { caAndServer, launch, selfSigned, sqliteExec, startSupervisord } from '../helpers/reference-plugins.ts';

afterAll(cleanupTempDirs);
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) {
    (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise((r) => s.close(r));
  }
});

/** The reference's exact text starts the message (vigil may add detail after it). */
function startsWith(message: string, reference: string): void {
  expect(message.startsWith(reference), `message ${JSON.stringify(message)}\nshould start with ${JSON.stringify(reference)}`).toBe(true);
}

// ------------------------------------------------------------------ test_check_certificate.py
describe('check-certificate (test_check_certificate.py, TestCheckCertificate and TestCheckCertificateSameFile)', () => {
  for (const sameFile of [false, true]) {
    const variant = sameFile ? 'SameFile' : '';
    /** key.pem and certificate.pem (or both in key.pem): as the reference's createKeyCertificate */
    const files = (opts: { days?: number; mismatch?: boolean } = {}) => {
      const d = tempDir('vigil-ref-certificate-');
      const keyPath = join(d, 'key.pem');
      const certificatePath = sameFile ? keyPath : join(d, 'certificate.pem');
      const pair = selfSigned(opts.days ?? 30);
      writeFileSync(keyPath, opts.mismatch ? selfSigned(30).key : pair.key);
      appendFileSync(certificatePath, pair.cert);
      return { d, keyPath, certificatePath };
    };
    const failed = (r: { failed: boolean; message: string }, text: string) => {
      expect(r.failed).toBe(true);
      startsWith(r.message, text);
    };
    const passed = (r: { failed: boolean; message: string }, text: string) => {
      expect(r.failed, r.message).toBe(false);
      startsWith(r.message, text);
    };

    it(`${variant}test: certificate and key are ok`, async () => {
      const f = files();
      passed(await launch('check-certificate', { certificate: f.certificatePath, key: f.keyPath }), `OK Certificate '${f.certificatePath}' and key '${f.keyPath}' are ok`);
    });
    it(`${variant}test_no_key_provided`, async () => {
      const f = files();
      passed(await launch('check-certificate', { certificate: f.certificatePath }), `OK Certificate '${f.certificatePath}' is ok, no key provided`);
    });
    it(`${variant}test_no_key`, async () => {
      const f = files();
      const nokey = join(f.d, 'nokey.pem');
      failed(await launch('check-certificate', { certificate: f.certificatePath, key: nokey }), `ERROR Problem loading key '${nokey}', error: [Errno 2] No such file or directory`);
    });
    it(`${variant}test_no_certificate`, async () => {
      const f = files();
      const nocert = join(f.d, 'nocertificate.pem');
      failed(
        await launch('check-certificate', { certificate: nocert, key: f.keyPath }),
        `ERROR Problem loading certificate '${nocert}', error: [Errno 2] No such file or directory: '${nocert}'`,
      );
    });
    it(`${variant}test_does_not_match`, async () => {
      const f = files({ mismatch: true });
      failed(await launch('check-certificate', { certificate: f.certificatePath, key: f.keyPath }), `ERROR Certificate '${f.certificatePath}' does not match key '${f.keyPath}'`);
    });
    it(`${variant}test_expires`, async () => {
      const f = files({ days: 5 });
      failed(await launch('check-certificate', { certificate: f.certificatePath, key: f.keyPath }), `ERROR Certificate '${f.certificatePath}' will expire in less than 15 days`);
    });
    it(`${variant}test_expires_no_key`, async () => {
      const f = files({ days: 5 });
      failed(await launch('check-certificate', { certificate: f.certificatePath }), `ERROR Certificate '${f.certificatePath}' will expire in less than 15 days`);
    });
    it(`${variant}test_expires_custom`, async () => {
      const f = files({ days: 19 });
      failed(
        await launch('check-certificate', { certificate: f.certificatePath, key: f.keyPath, 'certificate-expiration-days': '20' }),
        `ERROR Certificate '${f.certificatePath}' will expire in less than 20 days`,
      );
    });
    it(`${variant}test_expires_custom_no_key`, async () => {
      const f = files({ days: 19 });
      failed(
        await launch('check-certificate', { certificate: f.certificatePath, 'certificate-expiration-days': '20' }),
        `ERROR Certificate '${f.certificatePath}' will expire in less than 20 days`,
      );
    });
    it(`${variant}test_expires_bad_value`, async () => {
      const f = files({ days: 14 });
      const r = await launch('check-certificate', { certificate: f.certificatePath, key: f.keyPath, 'certificate-expiration-days': 'bad' });
      expect(r).toMatchObject({ failed: true, message: "ERROR certificate-expiration-days is wrong: 'bad'" });
    });
    it(`${variant}test_expires_bad_value_no_key`, async () => {
      const f = files({ days: 14 });
      const r = await launch('check-certificate', { certificate: f.certificatePath, 'certificate-expiration-days': 'bad' });
      expect(r).toMatchObject({ failed: true, message: "ERROR certificate-expiration-days is wrong: 'bad'" });
    });
  }
});

// ------------------------------------------------------------------ test_check_command_execute.py
describe('check-command-execute (test_check_command_execute.py)', () => {
  const scripts = () => {
    const d = tempDir('vigil-ref-command-');
    // no "#!": the shell runs them (as the reference's test scripts, which start with "#/bin/sh")
    const fail = join(d, 'fail');
    writeFileSync(fail, '#/bin/sh\necho failure\necho me 1>&2\nexit 1', { mode: 0o755 });
    const success = join(d, 'success');
    writeFileSync(success, '#/bin/sh\necho success\necho me 1>&2\nexit 0', { mode: 0o755 });
    return { fail, success };
  };
  it('test_check_success', async () => {
    const { success } = scripts();
    expect(await launch('check-command-execute', { command: success })).toMatchObject({ failed: false, message: `OK '${success}' run with success` });
  });
  it('test_check_failure: the output of stdout and stderr, in order, as bytes', async () => {
    const { fail } = scripts();
    const r = await launch('check-command-execute', { command: fail });
    expect(r.failed).toBe(true);
    startsWith(r.message, `ERROR '${fail}' run with failure, output: b'failure\\nme\\n'`);
  });
});

// ------------------------------------------------------------------ test_check_error_on_http_log.py
describe('check-error-on-http-log (test_check_error_on_http_log.py, on logs shaped like the reference\'s samples)', () => {
  // vigil's own sample logs (written here, not copied), shaped like the four the reference's
  // test uses: only [info] lines; one "No route to host" error; two "Connection timed out";
  // eleven "Network is unreachable" in a log longer than half the 4096-byte tail. Each is
  // written twice, as the reference's test does: the lines an hour ago, then a few minutes ago.
  const info = (n: number) => `[DATETIME] [info] [client 10.1.${n % 250}.7] Connection to child ${n % 8} established (server shop.example.org:443)\n`;
  const error = (errno: string, n: number) =>
    `[DATETIME] [error] ${errno}: proxy: HTTPS: attempt to connect to 10.2.0.${n % 250}:8443 (backend-${n}) failed\n`;
  const shapes: Record<string, string[]> = {
    infoonly_error_log: Array.from({ length: 14 }, (_, n) => info(n)),
    apache_error_log: [...Array.from({ length: 8 }, (_, n) => info(n)), error('(113)No route to host', 1), ...Array.from({ length: 8 }, (_, n) => info(n + 8))],
    timeout_error_log: [info(1), error('(110)Connection timed out', 1), info(2), info(3), error('(110)Connection timed out', 2), info(4)],
    // 11 errors then 22 info lines: ~3.6 KB, so the tail holds this copy whole and only the
    // [info] end of the copy an hour older
    unreachable_error_log: [...Array.from({ length: 11 }, (_, n) => error('(101)Network is unreachable', n)), ...Array.from({ length: 22 }, (_, n) => info(n))],
  };
  const logs = Object.keys(shapes);
  const dir = tempDir('vigil-ref-httplog-');
  /** "%a %b %d %H:%M:%S %Y" of now - sec, local time */
  const stamp = (sec: number) => {
    const d = new Date(Date.now() - sec * 1000);
    const p = (x: number) => String(x).padStart(2, '0');
    const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()]!;
    const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()]!;
    return `${day} ${mon} ${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
  };
  beforeAll(() => {
    // as the reference's test: each line once an hour ago (plus a few minutes), then again a
    // few minutes ago; the countdown runs on across the four files
    let i = 600;
    for (const name of logs) {
      let older = '';
      let newer = '';
      for (const line of shapes[name]!) {
        newer += line.replace('DATETIME', stamp(i));
        older += line.replace('DATETIME', stamp(i + 3600));
        i -= 1;
      }
      writeFileSync(join(dir, `SOFTINST-0_${name}`), older + newer);
    }
    // the shapes hold what the expectations below assume
    const size = (name: string) => shapes[name]!.join('').length;
    for (const name of ['infoonly_error_log', 'apache_error_log', 'timeout_error_log']) expect(2 * size(name) + 200).toBeLessThan(TAIL_BYTES);
    expect(size('unreachable_error_log')).toBeGreaterThan(TAIL_BYTES / 2 + 1000);
    expect(size('unreachable_error_log')).toBeLessThan(TAIL_BYTES - 200);
  });
  /** The reference's test: a run, then an anomaly run (force, anomaly mode), then the second config. */
  async function twoDelays(log: string, first: { failed: boolean; message: string }, second: { failed: boolean; message: string }) {
    const partition = tempPartition();
    const file = join(dir, `SOFTINST-0_${log}`);
    const a = await launch('check-error-on-http-log', { 'log-file': file, 'maximum-delay': 0 }, { anomaly: true, runs: 2, partition, name: 'check-error-on-apache-log.json' });
    expect(a.failed, a.message).toBe(first.failed);
    startsWith(a.message.split('\n').at(-1)!, first.message);
    const b = await launch('check-error-on-http-log', { 'log-file': file, 'maximum-delay': 3600 }, { anomaly: true, partition, name: 'check-error-on-apache-log.json' });
    expect(b.failed, b.message).toBe(second.failed);
    startsWith(b.message.split('\n').at(-1)!, second.message);
  }
  it('test_no_error', async () => {
    await twoDelays('infoonly_error_log', { failed: false, message: 'OK' }, { failed: false, message: 'OK' });
  });
  it('test_error', async () => {
    await twoDelays(
      'apache_error_log',
      { failed: true, message: 'ERROR=2 (NOROUTE=2, UNREACHABLENET=0, TIMEOUT=0)' },
      { failed: true, message: 'ERROR=1 (NOROUTE=1, UNREACHABLENET=0, TIMEOUT=0)' },
    );
  });
  it('test_error_timeout', async () => {
    await twoDelays(
      'timeout_error_log',
      { failed: true, message: 'ERROR=4 (NOROUTE=0, UNREACHABLENET=0, TIMEOUT=4)' },
      { failed: true, message: 'ERROR=2 (NOROUTE=0, UNREACHABLENET=0, TIMEOUT=2)' },
    );
  });
  it('test_error_unreacheabler', async () => {
    await twoDelays(
      'unreachable_error_log',
      { failed: true, message: 'ERROR=11 (NOROUTE=0, UNREACHABLENET=11, TIMEOUT=0)' },
      { failed: true, message: 'ERROR=11 (NOROUTE=0, UNREACHABLENET=11, TIMEOUT=0)' },
    );
  });
  it('(vigil) a 5 GiB log is checked from its last 4096 bytes: constant memory, fast', async () => {
    // a sparse file: 5 GiB of nothing, then the lines of a sample log (bigger than any Buffer:
    // reading it whole would throw)
    const big = join(tempDir('vigil-ref-biglog-'), 'error.log');
    const fd = openSync(big, 'w');
    closeSync(fd);
    execFileSync('truncate', ['-s', '5G', big]);
    appendFileSync(big, `\n${readFileSync(join(dir, 'SOFTINST-0_timeout_error_log'), 'utf8')}`);
    expect(readTail(big).length).toBeLessThanOrEqual(TAIL_BYTES);
    const rss = process.memoryUsage().rss;
    const times: number[] = [];
    let r: Awaited<ReturnType<typeof launch>> | undefined;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      r = await launch('check-error-on-http-log', { 'log-file': big, 'maximum-delay': 0 }, { anomaly: true });
      times.push(performance.now() - t0);
    }
    startsWith(r!.message, 'ERROR=4 (NOROUTE=0, UNREACHABLENET=0, TIMEOUT=4)');
    // the best of 5 runs (a loaded machine may delay one): well under 100 ms
    expect(Math.min(...times)).toBeLessThan(100);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
  });
});

// ------------------------------------------------------------------ test_check_file_state.py
describe('check-file-state (test_check_file_state.py)', () => {
  const url = 'https://www.example.com/';
  const file = () => join(tempDir('vigil-ref-file-'), 'test.file');
  it('test_check_file_directory', async () => {
    const f = file();
    mkdirSync(f);
    const r = await launch('check-file-state', { filename: f, state: 'not-empty', url });
    expect(r).toMatchObject({ failed: true, message: `ERROR IsADirectoryError(21, 'Is a directory') during opening and reading file '${f}'` });
  });
  it('test_check_file_not_exists_fail', async () => {
    const f = file();
    expect(await launch('check-file-state', { filename: f, state: 'not-empty', url })).toMatchObject({ failed: true, message: `ERROR '${f}' not present` });
  });
  it('test_check_file_not_exists_absent', async () => {
    const f = file();
    expect(await launch('check-file-state', { filename: f, state: 'absent', url })).toMatchObject({ failed: false, message: `OK '${f}' state 'absent'` });
  });
  it('test_check_file_not_exists_absent_fail', async () => {
    const f = file();
    writeFileSync(f, '');
    expect(await launch('check-file-state', { filename: f, state: 'absent', url })).toMatchObject({ failed: true, message: `ERROR '${f}' not absent` });
  });
  it('test_check_file_empty', async () => {
    const f = file();
    writeFileSync(f, '');
    expect(await launch('check-file-state', { filename: f, state: 'empty', url })).toMatchObject({ failed: false, message: `OK '${f}' state 'empty'` });
  });
  it('test_check_file_not_empty_fail', async () => {
    const f = file();
    writeFileSync(f, '');
    expect(await launch('check-file-state', { filename: f, state: 'not-empty', url })).toMatchObject({ failed: true, message: `ERROR '${f}' empty` });
  });
  it('test_check_file_not_empty', async () => {
    const f = file();
    writeFileSync(f, 'content');
    expect(await launch('check-file-state', { filename: f, state: 'not-empty', url })).toMatchObject({ failed: false, message: `OK '${f}' state 'not-empty'` });
  });
  it('test_check_file_empty_fail', async () => {
    const f = file();
    writeFileSync(f, 'content');
    expect(await launch('check-file-state', { filename: f, state: 'empty', url })).toMatchObject({
      failed: true,
      message: `ERROR '${f}' not empty, content available at https://www.example.com/`,
    });
  });
});

// ------------------------------------------------------------------ test_check_free_disk_space.py
describe('check-free-disk-space (test_check_free_disk_space.py, on a collector database)', () => {
  let db = '';
  beforeAll(async () => {
    // the reference's test database: /dev/sda1 sampled every day at 09:17 for two weeks, then
    // every minute on 2017-10-02 09:17-09:30; three partitions' folder sizes at 09:17
    const dir = tempDir('vigil-ref-collector-');
    db = join(dir, 'collector.db');
    const rows: [string, string, string, string][] = [];
    for (let day = 18; day <= 32; day++) {
      const date = day <= 30 ? `2017-09-${day}` : `2017-10-0${day - 30}`;
      rows.push(['159220666368', '288948396032', date, '09:17:01']);
    }
    const minutes: [string, string, string][] = [
      ['159237537792', '288931524608', '09:18:01'],
      ['159238090752', '288930971648', '09:19:02'],
      ['159241568256', '288927494144', '09:20:02'],
      ['159242719232', '288926343168', '09:21:02'],
      ['159196176384', '288972886016', '09:22:03'],
      ['159300747264', '288868315136', '09:23:03'],
      ['159294308352', '288874754048', '09:24:02'],
      ['159328468992', '288840593408', '09:25:03'],
      ['159384883200', '288784179200', '09:26:03'],
      ['159429677056', '288739385344', '09:27:02'],
      ['159444549632', '288724512768', '09:28:03'],
      ['159472902144', '288696160256', '09:29:02'],
      ['159476805632', '288692256768', '09:30:03'],
    ];
    for (const [used, free, time] of minutes) rows.push([used, free, '2017-10-02', time]);
    const sql = [
      'CREATE TABLE disk (partition text, used text, free text, mountpoint text, date text, time text, reported integer NULL DEFAULT 0);',
      'CREATE TABLE folder (partition text, disk_used real, date text, time text, reported integer NULL DEFAULT 0);',
      ...rows.map(([used, free, date, time]) => `INSERT INTO disk VALUES('/dev/sda1','${used}','${free}','/','${date}','${time}',1);`),
      ...[
        ['slapuser0', 87533020.0],
        ['slapuser1', 21883255.0],
        ['slapuser2', 43766510.0],
      ].map(([user, used]) => `INSERT INTO folder VALUES('${user}',${used},'2017-10-02','09:17:00',1);`),
    ].join('\n');
    await sqliteExec(db, sql);
  });
  const base = () => ({ collectordb: db, 'test-check-date': '2017-10-02' });
  it('test_check_free_disk_with_unavailable_dates', async () => {
    const r = await launch('check-free-disk-space', { ...base(), 'test-check-date': '2017-09-14', 'test-check-time': '18:00' });
    expect(r).toMatchObject({ failed: false, message: 'No result from collector database: disk check skipped' });
  });
  it('test_disk_space_ok', async () => {
    expect(await launch('check-free-disk-space', base())).toMatchObject({ failed: false, message: 'Current disk usage: OK' });
  });
  it('test_disk_space_nok', async () => {
    const r = await launch('check-free-disk-space', { ...base(), threshold: '278' });
    expect(r.failed).toBe(true);
    expect(r.message).toContain('Free disk space low: remaining 269.10 G (disk size: 417 G, threshold: 278 G).');
  });
  it('test_display_partition', async () => {
    const r = await launch('check-free-disk-space', { ...base(), threshold: '278', 'display-partition': '1' });
    expect(r.failed).toBe(true);
    expect(r.message).toContain(
      'The partition slappart0 uses 83.48 G (date checked: 2017-10-02 09:17:00).\n' +
        'The partition slappart2 uses 41.74 G (date checked: 2017-10-02 09:17:00).\n' +
        'The partition slappart1 uses 20.87 G (date checked: 2017-10-02 09:17:00).\n' +
        'Free disk space low: remaining 269.10 G (disk size: 417 G, threshold: 278 G).',
    );
  });
  it('test_check_free_disk_with_unicode_string_path', async () => {
    const partition = join(tempDir('vigil-ref-disk-'), 'partition-é');
    mkdirSync(join(partition, 'etc', 'plugin'), { recursive: true });
    const r = await launch('check-free-disk-space', base(), { partition });
    expect(r).toMatchObject({ failed: false });
    expect(r.message).toContain('Current disk usage: OK');
  });
  it('(vigil) display-prediction: the reference without pandas/statsmodels: the forecast is skipped, the check kept', async () => {
    // test_display_prediction needs the reference's ARIMA forecast (not ported)
    const r = await launch('check-free-disk-space', { ...base(), 'display-prediction': '1' });
    expect(r.failed).toBe(false);
    expect(r.message).toBe(
      'Current disk usage: OK\nTrying to use statsmodels and pandas but at least one module is not installed. Prediction skipped.',
    );
  });
});

// ------------------------------------------------------------------ test_check_service_state.py
describe('check-service-state (test_check_service_state.py, real supervisord)', () => {
  let runDir = '';
  let sv: Awaited<ReturnType<typeof startSupervisord>>;
  beforeAll(async () => {
    if (spawnSync('supervisord', ['--version']).error) throw new Error("supervisord is missing: install the Debian package 'supervisor'");
    runDir = tempDir('vigil-ref-sv-');
    sv = await startSupervisord(runDir, ['test-service']);
  });
  afterAll(async () => {
    await sv?.stop();
  });
  const check = (expect: string) => launch('check-service-state', { 'run-directory': runDir, service: 'test-service', expect });
  const running = async (on: boolean) => {
    sv.ctl(on ? 'start' : 'stop', 'test-service');
    expect(sv.ctl('status', 'test-service')).toMatch(on ? /RUNNING/ : /STOPPED/);
  };
  it('test_running_expect_running', async () => {
    await running(true);
    expect(await check('running')).toMatchObject({ failed: false, message: "OK service 'test-service' is in expected state 'running'" });
  });
  it('test_running_expect_stopped', async () => {
    await running(true);
    expect(await check('stopped')).toMatchObject({ failed: true, message: "ERROR service 'test-service' is in state 'running' (expected 'stopped')" });
  });
  it('test_running_expect_undefined', async () => {
    await running(true);
    expect(await check('undefined')).toMatchObject({
      failed: false,
      message: "OK service 'test-service' is allowed to be in any state (expect = 'undefined')",
    });
  });
  it('test_stopped_expect_running', async () => {
    await running(false);
    expect(await check('running')).toMatchObject({ failed: true, message: "ERROR service 'test-service' is in state 'stopped' (expected 'running')" });
  });
  it('test_stopped_expect_stopped', async () => {
    await running(false);
    expect(await check('stopped')).toMatchObject({ failed: false, message: "OK service 'test-service' is in expected state 'stopped'" });
  });
  it('test_stopped_expect_undefined', async () => {
    await running(false);
    expect(await check('undefined')).toMatchObject({
      failed: false,
      message: "OK service 'test-service' is allowed to be in any state (expect = 'undefined')",
    });
  });
});

// ------------------------------------------------------------------ test_check_socket_listening.py
describe('check-socket-listening (test_check_socket_listening.py)', () => {
  const listen = (server: Server, ...args: unknown[]) =>
    new Promise<void>((r) => (server.listen as (...a: unknown[]) => void)(...args, () => r()));
  it('test_input_conflict: every incomplete or conflicting address fails instantiation', async () => {
    for (const keys of [[], ['port'], ['host'], ['host', 'pathname'], ['host', 'abstract'], ['host', 'abstract', 'pathname'], ['pathname', 'abstract']]) {
      const r = await launch('check-socket-listening', Object.fromEntries(keys.map((k) => [k, 'a'])));
      expect(r.failed, `keys ${keys.join(',')}: ${r.message}`).toBe(true);
    }
  });
  it('test_host_port: IPv4 and IPv6, bound but not listening fails, listening passes', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      // a port reserved and not listening: closed right away, then someone listens on it
      const probe = createNet();
      await listen(probe, 0, host);
      const port = (probe.address() as { port: number }).port;
      await new Promise((r) => probe.close(r));
      const closed = await launch('check-socket-listening', { host, port: String(port) });
      expect(closed.failed, closed.message).toBe(true);
      startsWith(closed.message, 'ConnectionRefusedError: [Errno 111] Connection refused');
      const server = createNet();
      servers.push(server);
      await listen(server, port, host);
      const open = await launch('check-socket-listening', { host, port: String(port) });
      expect(open.failed, open.message).toBe(false);
      startsWith(open.message, host === '::1' ? `socket connection OK ('::1', ${port}, 0, 0)` : `socket connection OK ('127.0.0.1', ${port})`);
    }
  });
  it('test_unix_socket: pathname and abstract, not listening fails, listening passes', async () => {
    const name = join(tempDir('vigil-ref-unix-'), 'test_unix_socket');
    for (const abstract of [false, true]) {
      const config = abstract ? { abstract: name } : { pathname: name };
      const closed = await launch('check-socket-listening', config);
      expect(closed.failed, closed.message).toBe(true);
      const server = createNet();
      servers.push(server);
      await listen(server, abstract ? `\0${name}` : name);
      const open = await launch('check-socket-listening', config);
      expect(open.failed, open.message).toBe(false);
      startsWith(open.message, abstract ? `socket connection OK '\\x00${name}'` : `socket connection OK '${name}'`);
    }
  });
});

// ------------------------------------------------------------------ test_check_url_available.py
describe('check-url-available (test_check_url_available.py)', () => {
  let pki: ReturnType<typeof caAndServer>;
  let endpoint = '';
  let redirectEndpoint = '';
  const good = { username: 'good username', password: 'good password' };
  beforeAll(async () => {
    pki = caAndServer();
    const tls = { cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) };
    // as the reference's TestHandler: /<code>, /<code>_<seconds to wait>, /!<code> (basic auth)
    const server = createHttps(tls, (req, res) => {
      let path = (req.url ?? '').split('/').at(-1) ?? '';
      const auth = path.startsWith('!');
      if (auth) path = path.slice(1);
      const [code, wait] = path.split('_');
      const key = Buffer.from(`${good.username}:${good.password}`).toString('base64');
      setTimeout(() => {
        if (auth && req.headers.authorization !== `Basic ${key}`) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
          res.end('bad credentials\n');
        } else {
          res.writeHead(Number(code), { 'content-type': 'application/json' });
          res.end(JSON.stringify({ Path: req.url }));
        }
      }, Number(wait ?? 0) * 1000);
    });
    const redirects = createHttps(tls, (req, res) => {
      if (req.url === '/') {
        res.writeHead(302, { location: '/redirected' });
        res.end('see /redirected');
      } else if (req.url === '/redirected') {
        res.writeHead(200);
        res.end('OK');
      } else {
        res.writeHead(400);
        res.end(`Unexepected path: ${req.url}`);
      }
    });
    for (const s of [server, redirects]) {
      servers.push(s as unknown as Server);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    }
    endpoint = `https://127.0.0.1:${(server.address() as { port: number }).port}/`;
    redirectEndpoint = `https://127.0.0.1:${(redirects.address() as { port: number }).port}/`;
  });
  const success = (url: string, code: number, auth = false) => `${auth ? 'authenticated' : 'non-authenticated'} request to '${url}' succeeded (returned expected code ${code})`;
  const ignored = (url: string, auth = false) => `${auth ? 'authenticated' : 'non-authenticated'} request to '${url}' succeeded (return code ignored)`;
  const failedCode = (url: string, got: number, want: number, auth = false) =>
    `${auth ? 'authenticated' : 'non-authenticated'} request to '${url}' failed (returned ${got}, expected ${want})`;
  const check = (config: Record<string, unknown>) => launch('check-url-available', config);

  it('test_check_url_bad', async () => {
    expect(await check({ url: 'https://', timeout: 10, 'ignore-code': 0 })).toMatchObject({ failed: true, message: "ERROR: Invalid URL 'https://': No host supplied" });
  });
  it('test_check_url_malformed', async () => {
    expect(await check({ url: '', timeout: 10, 'ignore-code': 0 })).toMatchObject({
      failed: true,
      message: "ERROR: Invalid URL '': No scheme supplied. Perhaps you meant https://?",
    });
  });
  it('test_check_url_site_off', async () => {
    // nothing listens there
    const probe = createNet();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const url = `https://localhost:${port}/site`;
    const r = await check({ url, timeout: 10, 'ignore-code': 0 });
    expect(r.failed).toBe(true);
    startsWith(r.message, `ERROR connection not possible while accessing '${url}'`);
  });
  it('test_check_200', async () => {
    const url = `${endpoint}200`;
    expect(await check({ url, timeout: 10, 'ignore-code': 0 })).toMatchObject({ failed: false, message: success(url, 200) });
  });
  it('test_check_200_verify: the system CA bundle (REQUESTS_CA_BUNDLE, as python-requests)', async () => {
    const url = `${endpoint}200`;
    const old = process.env['REQUESTS_CA_BUNDLE'];
    process.env['REQUESTS_CA_BUNDLE'] = pki.caFile;
    try {
      expect(await check({ url, timeout: 10, 'ignore-code': 0, verify: 1 })).toMatchObject({ failed: false, message: success(url, 200) });
    } finally {
      if (old === undefined) delete process.env['REQUESTS_CA_BUNDLE'];
      else process.env['REQUESTS_CA_BUNDLE'] = old;
    }
  });
  it('test_check_200_verify_fail', async () => {
    const url = `${endpoint}200`;
    const r = await check({ url, timeout: 10, 'ignore-code': 0, verify: 1 });
    expect(r.failed).toBe(true);
    expect(r.message).toContain(`ERROR SSL error while accessing '${url}'`);
    expect(r.message).toContain('CERTIFICATE_VERIFY_FAILED');
  });
  it('test_check_200_verify_own', async () => {
    const url = `${endpoint}200`;
    expect(await check({ url, timeout: 10, 'ignore-code': 0, 'ca-cert-file': pki.caFile })).toMatchObject({ failed: false, message: success(url, 200) });
    // (vigil) and another CA's file does not verify it
    const other = await check({ url, timeout: 10, 'ca-cert-file': pki.otherCaFile });
    expect(other.failed).toBe(true);
    expect(other.message).toContain('CERTIFICATE_VERIFY_FAILED');
  });
  it('test_check_401', async () => {
    const url = `${endpoint}401`;
    expect(await check({ url, timeout: 10, 'ignore-code': 0 })).toMatchObject({ failed: true, message: failedCode(url, 401, 200) });
  });
  it('test_check_401_ignore_code', async () => {
    const url = `${endpoint}401`;
    expect(await check({ url, timeout: 10, 'ignore-code': 1 })).toMatchObject({ failed: false, message: ignored(url) });
  });
  it('test_check_512_http_code', async () => {
    const url = `${endpoint}512`;
    expect(await check({ url, timeout: 10, 'ignore-code': 0, 'http-code': 512 })).toMatchObject({ failed: false, message: success(url, 512) });
  });
  it('test_check_bad_http_code', async () => {
    const url = `${endpoint}412`;
    expect(await check({ url, timeout: 10, 'ignore-code': 0, 'http-code': 732 })).toMatchObject({ failed: true, message: failedCode(url, 412, 732) });
  });
  it('test_check_authenticate_success', async () => {
    const url = `${endpoint}!200`;
    expect(await check({ url, ...good })).toMatchObject({ failed: false, message: success(url, 200, true) });
  });
  it('test_check_authenticate_no_password_needed', async () => {
    const url = `${endpoint}200`;
    expect(await check({ url, ...good })).toMatchObject({ failed: false, message: success(url, 200, true) });
  });
  it('test_check_authenticate_bad_password', async () => {
    const url = `${endpoint}!200`;
    expect(await check({ url, username: 'bad username', password: 'bad password' })).toMatchObject({ failed: true, message: failedCode(url, 401, 200, true) });
  });
  it('test_check_authenticate_no_password_given', async () => {
    const url = `${endpoint}!200`;
    expect(await check({ url })).toMatchObject({ failed: true, message: failedCode(url, 401, 200) });
    // (vigil) a username without a password is not authenticated either, as in the reference
    expect(await check({ url, username: good.username })).toMatchObject({ failed: true, message: failedCode(url, 401, 200) });
  });
  it('test_check_authenticate_http_code', async () => {
    const url = `${endpoint}!412`;
    expect(await check({ url, ...good, 'http-code': 412 })).toMatchObject({ failed: false, message: success(url, 412, true) });
  });
  it('test_check_authenticate_ignore_code', async () => {
    const url = `${endpoint}!404`;
    expect(await check({ url, ...good, 'ignore-code': 1 })).toMatchObject({ failed: false, message: ignored(url, true) });
  });
  it('test_check_200_timeout (TestCheckUrlAvailableTimeout): the promise timeout wins over a longer request timeout', async () => {
    // through the launcher: the server answers after 5 s, the request would wait 10 s, the
    // promise timeout is 2 s (0.5 s in the reference; vigil's runners start from the
    // TypeScript sources here, within the promise timeout)
    const p = tempPartition();
    writeStock(p, 'check-url-available', 'check-url-available', { url: `${endpoint}200_5`, timeout: 10, 'ignore-code': 0 });
    const res = await runPartitionPromises({ partitionDir: p, mode: 'test', timeoutSeconds: 2 });
    expect(res.results[0]!.failed).toBe(true);
    startsWith(res.results[0]!.message, 'Error: Promise timed out after 2 seconds');
  });
  it('test_check_redirected_follow_redirect (TestCheckUrlAvailableRedirect)', async () => {
    expect(await check({ url: redirectEndpoint, 'http-code': '200' })).toMatchObject({ failed: false, message: success(redirectEndpoint, 200) });
  });
  it('test_check_redirected_not_follow_redirect (TestCheckUrlAvailableRedirect)', async () => {
    expect(await check({ url: redirectEndpoint, 'allow-redirects': '0', 'http-code': '302' })).toMatchObject({
      failed: false,
      message: success(redirectEndpoint, 302),
    });
  });
});
