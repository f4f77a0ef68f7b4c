import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { listServices, renderConfig } from '../../../agent/cli/supervisord-config.ts';
import { parseTokens, runListener } from '../../../agent/cli/watchdog.ts';
import { runInstantiate, startServices } from '../../../agent/instantiate.ts';
import { createLogger } from '../../../agent/log.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-wd-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const exe = (file: string, body: string) => {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, body);
  chmodSync(file, 0o755);
};
const quiet = createLogger({ write: () => {} });

describe('watchdog event-listener protocol', () => {
  it('acknowledges each event after handling it, READY before each', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let out = '';
    output.on('data', (c) => {
      out += c.toString();
    });
    const events: [Record<string, string>, string][] = [];
    const done = runListener(input, output, async (h, p) => {
      events.push([h, p]);
    }, quiet);
    const payload1 = 'processname:web-on-watch groupname:p1 from_state:RUNNING expected:0 pid:42';
    const payload2 = 'processname:db groupname:p2 from_state:STARTING';
    // split across chunks on purpose
    const stream = `ver:3.0 server:supervisor serial:1 pool:watchdog poolserial:1 eventname:PROCESS_STATE_EXITED len:${Buffer.byteLength(payload1)}\n${payload1}` +
      `ver:3.0 server:supervisor serial:2 pool:watchdog poolserial:2 eventname:PROCESS_STATE_FATAL len:${Buffer.byteLength(payload2)}\n${payload2}`;
    input.write(stream.slice(0, 30));
    input.write(stream.slice(30, 120));
    input.end(stream.slice(120));
    await done;
    expect(events.map(([h, p]) => [h.eventname, parseTokens(p).processname])).toEqual([
      ['PROCESS_STATE_EXITED', 'web-on-watch'],
      ['PROCESS_STATE_FATAL', 'db'],
    ]);
    expect(out).toBe('READY\nRESULT 2\nOKREADY\nRESULT 2\nOKREADY\n');
  });
});

describe('supervisord-config', () => {
  it('watches etc/service, supervises etc/run, groups by partition, adds the watchdog listener', () => {
    const root = tmp();
    exe(join(root, 'p1', 'etc', 'service', 'web'), '#!/bin/sh\nexec sleep 100\n');
    exe(join(root, 'p1', 'etc', 'run', 'cron'), '#!/bin/sh\nexec sleep 100\n');
    exe(join(root, 'p2', 'etc', 'service', 'db'), '#!/bin/sh\nexec sleep 100\n');
    mkdirSync(join(root, '.hidden', 'etc', 'service'), { recursive: true });
    const services = listServices(root, () => {});
    expect(services.map((s) => `${s.partitionId}/${s.name}/${s.watched}`)).toEqual(['p1/web/true', 'p1/cron/false', 'p2/db/true']);
    const text = renderConfig(
      { instanceRoot: root, watchdog: { master: 'http://m', computer: 'c1', tokenFile: '/t', vigilCommand: 'vigil' } },
      services,
    );
    expect(text).toContain('[program:p1_web]\n');
    expect(text).toContain('process_name=web-on-watch\n');
    expect(text).toContain('process_name=cron\n');
    expect(text).toContain('[group:p1]\nprograms=p1_web,p1_cron\n');
    expect(text).toContain('[group:p2]\nprograms=p2_db\n');
    expect(text.match(/autorestart=false/g)?.length).toBe(3);
    expect(text).toContain('[eventlistener:watchdog]\n');
    expect(text).toMatch(/command=vigil watchdog --master http:\/\/m --computer c1 --token-file \/t --instance-root /);
    expect(text).toContain('events=PROCESS_STATE_EXITED,PROCESS_STATE_FATAL\n');
  });
});

describe('etc/instantiate', () => {
  const base = { partitionId: 'p1', computerId: 'c1', masterUrl: 'http://m' };
  it('runs with the vigil environment and keeps its output', async () => {
    const p = tmp();
    exe(join(p, 'etc', 'instantiate'), '#!/bin/sh\necho "id=$VIGIL_PARTITION_ID c=$VIGIL_COMPUTER_ID path=$VIGIL_PARTITION_PATH m=$VIGIL_MASTER_URL"\n');
    const r = await runInstantiate({ ...base, partitionDir: p, timeoutMs: 5000 });
    expect(r).toMatchObject({ ok: true, ran: true, timedOut: false });
    expect(readFileSync(join(p, '.vigil', 'instantiate.log'), 'utf8')).toContain(`id=p1 c=c1 path=${p} m=http://m`);
  });

  it('reports a failing exit code with the end of the log', async () => {
    const p = tmp();
    exe(join(p, 'etc', 'instantiate'), '#!/bin/sh\necho boom >&2\nexit 3\n');
    const r = await runInstantiate({ ...base, partitionDir: p, timeoutMs: 5000 });
    expect(r.ok).toBe(false);
    // one line saying why (the master shows it as the colour reason), without vigil's log markers
    expect(r.error).toBe('etc/instantiate exited with code 3: boom');
    exe(join(p, 'etc', 'instantiate'), '#!/bin/sh\necho step 1\necho "port 80 taken" >&2\nexit 4\n');
    const r2 = await runInstantiate({ ...base, partitionDir: p, timeoutMs: 5000 });
    expect(r2.error).toBe('etc/instantiate exited with code 4: port 80 taken\nend of .vigil/instantiate.log:\nstep 1\nport 80 taken');
  });

  it('kills the whole process group at the timeout', async () => {
    const p = tmp();
    const pidFile = join(p, 'child.pid');
    exe(join(p, 'etc', 'instantiate'), `#!/bin/sh\nsleep 30 &\necho $! > ${pidFile}\ntrap '' TERM\nwait\n`);
    const t0 = Date.now();
    const r = await runInstantiate({ ...base, partitionDir: p, timeoutMs: 400, killGraceMs: 300 });
    expect(r).toMatchObject({ ok: false, timedOut: true });
    expect(r.error).toMatch(/timed out after 0.4 s/);
    expect(Date.now() - t0).toBeLessThan(3000);
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((res) => setTimeout(res, 100));
    let alive = true;
    try {
      process.kill(childPid, 0);
      // a zombie waiting for a reaper is dead too
      alive = !/^State:\s+Z/m.test(readFileSync(`/proc/${childPid}/status`, 'utf8'));
    } catch {
      alive = false;
    }
    expect(alive).toBe(false);
  });

  it('no etc/instantiate: nothing to run, ok', async () => {
    const p = tmp();
    const r = await runInstantiate({ ...base, partitionDir: p, timeoutMs: 1000 });
    expect(r).toMatchObject({ ok: true, ran: false });
    expect(existsSync(join(p, '.vigil', 'instantiate.log'))).toBe(false);
  });
});

describe('starting the partition programs after instantiation', () => {
  it('skips a partition without services; reports supervisorctl failures with a hint', async () => {
    const p = tmp();
    const none = await startServices({ partitionDir: p, partitionId: 'p1', supervisordConfig: '/x.conf' });
    expect(none).toEqual({ ok: true, ran: false });
    exe(join(p, 'etc', 'service', 'web'), '#!/bin/sh\nexec sleep 100\n');
    const missing = await startServices({ partitionDir: p, partitionId: 'p1', supervisordConfig: '/x.conf', supervisorctl: join(p, 'nope') });
    expect(missing).toMatchObject({ ok: false, ran: true });
    expect(missing.error).toMatch(/ENOENT.*Debian package 'supervisor'/);
    // a fake supervisorctl: the arguments, and "no such group" (config written before the service existed)
    const args = join(p, 'args');
    const fake = join(p, 'fake-ctl');
    exe(fake, `#!/bin/sh\necho "$@" > ${args}\necho "p1: ERROR (no such group)"\nexit 2\n`);
    const noGroup = await startServices({ partitionDir: p, partitionId: 'p1', supervisordConfig: '/x.conf', supervisorctl: fake });
    expect(readFileSync(args, 'utf8').trim()).toBe('-c /x.conf start p1:*');
    expect(noGroup.ok).toBe(false);
    expect(noGroup.error).toMatch(/no such group.*vigil supervisord-config.*update/);
    exe(fake, '#!/bin/sh\necho "p1:web-on-watch: ERROR (already started)"\nexit 1\n');
    expect(await startServices({ partitionDir: p, partitionId: 'p1', supervisordConfig: '/x.conf', supervisorctl: fake })).toMatchObject({ ok: true });
  });
});

describe('watchdog bang when the master is down', () => {
  it('spools the bang for the agent to replay, and throttles the next one', async () => {
    const { handleEvent } = await import('../../../agent/cli/watchdog.ts');
    const { createMasterClient } = await import('../../../agent/client.ts');
    const { partitionSpool } = await import('../../../agent/bang.ts');
    const root = tmp();
    mkdirSync(join(root, 'p1'));
    const deps = {
      client: createMasterClient({ masterUrl: 'http://127.0.0.1:1', computerId: 'c1', token: 't', timeoutMs: 1000 }),
      instanceRoot: root,
      log: quiet,
      now: () => new Date(),
    };
    const payload = 'processname:web-on-watch groupname:p1 from_state:RUNNING expected:0 pid:1';
    expect(await handleEvent(deps, { eventname: 'PROCESS_STATE_EXITED' }, payload)).toBe('bang spooled');
    const items = partitionSpool(join(root, 'p1')).list();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'bang', partitionId: 'p1', body: { source: 'watchdog' } });
    expect(await handleEvent(deps, { eventname: 'PROCESS_STATE_FATAL' }, payload)).toMatch(/^throttled/);
    expect(await handleEvent(deps, { eventname: 'PROCESS_STATE_EXITED' }, payload.replace('web-on-watch', 'cron'))).toMatch(/not watched/);
    expect(await handleEvent(deps, { eventname: 'PROCESS_STATE_STOPPED' }, payload)).toMatch(/^ignored/);
    expect(partitionSpool(join(root, 'p1')).depth()).toBe(1);
  });
});
