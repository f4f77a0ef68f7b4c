// Issue 10: the local master (`startLocalMaster`: dynalite on disk, fauxqs, the node HTTP
// server) driven over real sockets: connection reuse after errors, far-future dates,
// duplicate promise names, server-side dashboard sessions, the failure limiter, and bidi
// controls on the pages. Each limiter test uses its own loopback source address
// (127.0.0.x), so the per-address limits of one test do not touch another.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalMaster, startLocalMaster } from '../../functions/local/master.ts';
import { type Answer, KeepAliveClient, rawExchange } from '../helpers/http-client.ts';

const ADMIN = 'robustness-admin-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'vigil-robust-'));
let master: LocalMaster;
let computerToken = '';
const clients: KeepAliveClient[] = [];

function client(localAddress?: string): KeepAliveClient {
  const c = new KeepAliveClient(master.url, localAddress ? { localAddress } : {});
  clients.push(c);
  return c;
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const jsonHeaders = (t: string) => ({ ...bearer(t), 'content-type': 'application/json' });

async function api(method: string, path: string, token = ADMIN, body?: unknown): Promise<Answer> {
  return client().request(method, path, { headers: jsonHeaders(token), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

function report(reportId: string, startedAt: Date, promises: { name: string; failed?: boolean; message?: string; date?: Date }[]) {
  return {
    reportId,
    kind: 'instantiation',
    startedAt: startedAt.toISOString(),
    durationMs: 100,
    ok: promises.every((p) => !p.failed),
    promises: promises.map((p) => ({
      name: p.name,
      title: p.name.replace(/\.[^.]*$/, ''),
      kind: 'test',
      failed: !!p.failed,
      message: p.message ?? (p.failed ? 'it failed' : 'kept'),
      date: (p.date ?? startedAt).toISOString(),
      executionTimeMs: 3,
    })),
  };
}

beforeAll(async () => {
  master = await startLocalMaster({ port: 0, dataDir: dir, adminToken: ADMIN });
  expect((await api('PUT', '/v1/software-releases/sr', ADMIN, { url: 'https://example.com/sr.cfg' })).status).toBe(201);
  const c = await api('PUT', '/v1/computers/comp', ADMIN, {});
  expect(c.status).toBe(201);
  computerToken = c.json.token;
  for (const p of ['p-future', 'p-past', 'p-dup', 'p-bidi', 'p-misc']) {
    expect((await api('PUT', `/v1/partitions/${p}`, ADMIN, { computerId: 'comp', instanceTreeId: 'tree', softwareReleaseId: 'sr' })).status).toBe(201);
  }
});

afterAll(async () => {
  for (const c of clients) c.close();
  await master?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('item 1: an error answer leaves the connection usable', () => {
  const big = JSON.stringify({ url: `https://example.com/${'x'.repeat(300 * 1024)}` });

  it('PUT 300 KiB → 413, then GET → 200 on the same keep-alive connection, 30 times', async () => {
    const c = client();
    for (let i = 0; i < 30; i++) {
      const put = await c.request('PUT', '/v1/software-releases/big', { headers: jsonHeaders(ADMIN), body: big });
      expect(put.status, `round ${i}`).toBe(413);
      expect(put.json).toMatchObject({ error: 'payload_too_large' });
      const get = await c.request('GET', '/healthz');
      expect(get.status, `round ${i}`).toBe(200);
      expect(get.reused, `round ${i}: GET on the connection of the 413`).toBe(true);
      expect(get.connection).toBe(put.connection);
    }
    expect(c.opened).toBe(1);
  });

  it('a chunked body over the limit (no Content-Length) → 413, and the connection goes on', async () => {
    const c = client();
    for (let i = 0; i < 10; i++) {
      const put = await c.request('PUT', '/v1/software-releases/big', { headers: jsonHeaders(ADMIN), body: big, chunked: true });
      expect(put.status, `round ${i}`).toBe(413);
      const get = await c.request('GET', '/healthz');
      expect(get.status).toBe(200);
      expect(get.connection).toBe(put.connection);
    }
    expect(c.opened).toBe(1);
  });

  it('a 256 KiB body on routes that answer without reading it (401, 404, POST /logout) → the next request works', async () => {
    // its own source address: the 401s count against it in the failure limiter
    const c = client('127.0.0.11');
    const body = JSON.stringify({ agentVersion: 'x'.repeat(256 * 1024 - 30) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(256 * 1024);
    const routes: [string, string, Record<string, string>, number[]][] = [
      ['POST', '/v1/computers/comp/heartbeat', jsonHeaders('vc1.Y29tcA.wrong'), [401, 429]],
      ['PUT', '/nope', {}, [404]],
      ['POST', '/logout', { 'content-type': 'application/x-www-form-urlencoded' }, [303]],
    ];
    for (let i = 0; i < 10; i++) {
      for (const [method, path, headers, expected] of routes) {
        const first = await c.request(method, path, { headers, body });
        expect(expected, `${method} ${path} round ${i}`).toContain(first.status);
        const next = await c.request('GET', '/healthz');
        expect(next.status).toBe(200);
        expect(next.connection, `after ${method} ${path}`).toBe(first.connection);
      }
    }
    expect(c.opened).toBe(1);
  });

  it('fetch() (undici, keep-alive): PUT 300 KiB → 413, GET → 200, GET → 200, 20 times', async () => {
    for (let i = 0; i < 20; i++) {
      const put = await fetch(`${master.url}/v1/software-releases/big`, { method: 'PUT', headers: jsonHeaders(ADMIN), body: big });
      expect(put.status).toBe(413);
      await put.text();
      for (let j = 0; j < 2; j++) {
        const get = await fetch(`${master.url}/healthz`);
        expect(get.status).toBe(200);
        await get.text();
      }
    }
  });

  it('pipelined on one raw connection: the 413 body is skipped exactly and the next request is answered', async () => {
    const bigBody = Buffer.alloc(300 * 1024, 'x');
    const payload = Buffer.concat([
      Buffer.from(`PUT /v1/software-releases/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nContent-Length: ${bigBody.length}\r\n\r\n`),
      bigBody,
      Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'),
    ]);
    const r = await rawExchange(master.url, payload, 2);
    expect(r.statuses).toEqual([413, 200]);
    expect(JSON.parse(r.bodies[1]!)).toMatchObject({ status: 'ok' });
  });

  it('a body beyond what the master reads (8 MiB) still gets its 413 (no reset), with Connection: close, and the client goes on', async () => {
    const c = client();
    const huge = 'y'.repeat(8 * 1024 * 1024);
    for (let i = 0; i < 3; i++) {
      const put = await c.request('PUT', '/v1/software-releases/big', { headers: jsonHeaders(ADMIN), body: huge });
      expect(put.status).toBe(413);
      expect(put.headers.connection).toBe('close');
      const get = await c.request('GET', '/healthz');
      expect(get.status).toBe(200);
    }
  });
});

describe('item 2: dates beyond the master clock are clamped for ordering', () => {
  it('one report dated +1 year, then a failing report dated now → the partition turns red with the real failure', async () => {
    const now = Date.now();
    const future = new Date(now + 365 * 86400_000);
    const first = await api('POST', '/v1/partitions/p-future/reports', computerToken, report('r-future', future, [{ name: 'web.json', date: future }]));
    expect(first.status).toBe(202);
    expect(first.json.status).toBe('accepted');
    const after = await api('GET', '/v1/partitions/p-future');
    expect(after.json.colour).toBe('green');

    await new Promise((r) => setTimeout(r, 20));
    const failing = await api('POST', '/v1/partitions/p-future/reports', computerToken, report('r-now', new Date(), [{ name: 'web.json', failed: true, message: 'HTTP 503' }]));
    expect(failing.status).toBe(202);
    const p = await api('GET', '/v1/partitions/p-future');
    expect(p.json).toMatchObject({ colour: 'red', colourReason: 'promise web.json failed: HTTP 503' });
    expect(failing.json).toEqual({ reportId: 'r-now', status: 'accepted' });
    // the answer to the far-future report said what was clamped; the stored date is the master's
    expect(first.json.warnings.map((w: any) => [w.field, w.code])).toEqual([
      ['body.startedAt', 'clamped_future_date'],
      ['body.promises.0.date', 'clamped_future_date'],
    ]);
    expect(Date.parse(after.json.lastReport.startedAt)).toBeLessThan(now + 5 * 60_000);
    // the promise history's latest result is the real one too
    const pr = await api('GET', '/v1/partitions/p-future/promises');
    expect(pr.json.promises[0].latest).toMatchObject({ reportId: 'r-now', failed: true });
    // the clamped report re-posted (the agent did not get the 202) is still a duplicate
    const again = await api('POST', '/v1/partitions/p-future/reports', computerToken, report('r-now', new Date(), [{ name: 'web.json', failed: true, message: 'HTTP 503' }]));
    expect(again.json.status).toBe('duplicate');
  });

  it('a date a little ahead (within the allowed skew) and far-past dates are taken as they are', async () => {
    const ahead = new Date(Date.now() + 60_000);
    const r1 = await api('POST', '/v1/partitions/p-past/reports', computerToken, report('r-ahead', ahead, [{ name: 'a.json' }]));
    expect(r1.json).toEqual({ reportId: 'r-ahead', status: 'accepted' });
    expect((await api('GET', '/v1/partitions/p-past')).json.lastReport.startedAt).toBe(ahead.toISOString());
    const old = new Date('1999-01-01T00:00:00.000Z');
    const r2 = await api('POST', '/v1/partitions/p-past/reports', computerToken, report('r-old', old, [{ name: 'a.json', failed: true }]));
    expect(r2.json).toEqual({ reportId: 'r-old', status: 'stale' });
    const pr = await api('GET', '/v1/partitions/p-past/promises');
    expect(pr.json.reports.map((r: any) => [r.reportId, r.startedAt])).toContainEqual(['r-old', old.toISOString()]);
  });
});

describe('item 4: duplicate promise names in one report', () => {
  it('two entries with the same name and date → 202, the last one kept, a warning names the field', async () => {
    const at = new Date();
    const body = report('r-dup', at, [{ name: 'disk.json' }, { name: 'web.json' }, { name: 'disk.json', failed: true, message: 'disk 99%' }]);
    const r = await api('POST', '/v1/partitions/p-dup/reports', computerToken, body);
    expect(r.status, r.text).toBe(202);
    expect(r.json.status).toBe('accepted');
    expect(r.json.warnings).toEqual([
      expect.objectContaining({ field: 'body.promises.0.name', code: 'duplicate_promise_name', message: expect.stringContaining('body.promises.2') }),
    ]);
    const p = await api('GET', '/v1/partitions/p-dup');
    expect(p.json).toMatchObject({ colour: 'red', colourReason: 'promise disk.json failed: disk 99%' });
    expect(p.json.lastReport.promiseCount).toBe(2);
    const pr = await api('GET', '/v1/partitions/p-dup/promises');
    const disk = pr.json.promises.find((x: any) => x.name === 'disk.json');
    expect(disk.history).toHaveLength(1);
    expect(disk.latest).toMatchObject({ failed: true, message: 'disk 99%' });
    // and the same report again is a plain duplicate
    expect((await api('POST', '/v1/partitions/p-dup/reports', computerToken, body)).json.status).toBe('duplicate');
  });
});

describe('item 5: dashboard sessions end on the server', () => {
  async function login(c: KeepAliveClient, token = ADMIN): Promise<{ answer: Answer; cookie: string }> {
    const answer = await c.request('POST', '/login', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: c.base },
      body: new URLSearchParams({ token, next: '/' }).toString(),
    });
    const set = ([] as string[]).concat(answer.headers['set-cookie'] ?? []).find((x) => x.startsWith('vigil_session='));
    return { answer, cookie: set ? set.split(';')[0]! : '' };
  }
  const page = (c: KeepAliveClient, path: string, cookie: string) => c.request('GET', path, { headers: { cookie } });
  const isFleet = (a: Answer) => a.status === 200 && a.text.includes('data-page') === false && a.text.includes('id="main"');

  it('after POST /logout the old cookie opens nothing', async () => {
    const c = client('127.0.0.31');
    const { answer, cookie } = await login(c);
    expect(answer.status).toBe(303);
    expect(cookie).not.toContain(ADMIN);
    expect(isFleet(await page(c, '/', cookie))).toBe(true);
    const out = await c.request('POST', '/logout', { headers: { cookie, origin: master.url, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/login');
    // the browser forgot the cookie; a copy of it (stolen, or another tab) is worthless now
    const root = await page(c, '/', cookie);
    expect(root.status).toBe(200);
    expect(root.text).toContain('data-page="login"');
    const bangs = await page(c, '/bangs', cookie);
    expect(bangs.status).toBe(303);
    expect(bangs.headers.location).toMatch(/^\/login/);
  });

  it('GET /logout does not log out (another site could make the browser fetch it)', async () => {
    const c = client('127.0.0.32');
    const { cookie } = await login(c);
    const get = await page(c, '/logout', cookie);
    expect(get.headers['set-cookie']).toBeUndefined();
    expect([200, 405]).toContain(get.status);
    expect(get.text).toContain('action="/logout"');
    expect(isFleet(await page(c, '/', cookie))).toBe(true);
  });

  it('POST /logout from another origin is refused (403) and the session stays', async () => {
    const c = client('127.0.0.33');
    const { cookie } = await login(c);
    const forged = await c.request('POST', '/logout', { headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(forged.status).toBe(403);
    expect(forged.headers['set-cookie']).toBeUndefined();
    const fetchSite = await c.request('POST', '/logout', { headers: { cookie, 'sec-fetch-site': 'cross-site' }, body: '' });
    expect(fetchSite.status).toBe(403);
    expect(isFleet(await page(c, '/', cookie))).toBe(true);
    // a login posted from another origin is refused too (login CSRF)
    const { answer } = await (async () => {
      const a = await c.request('POST', '/login', {
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
        body: new URLSearchParams({ token: ADMIN, next: '/' }).toString(),
      });
      return { answer: a };
    })();
    expect(answer.status).toBe(403);
    expect(answer.headers['set-cookie']).toBeUndefined();
  });
});

describe('item 5 (rotation): a new admin token ends every session', () => {
  it('the local master restarted with another admin token refuses the old cookie', async () => {
    const rdir = mkdtempSync(join(tmpdir(), 'vigil-rotate-'));
    let m = await startLocalMaster({ port: 0, dataDir: rdir, adminToken: 'first-admin-token-0123456789' });
    try {
      const form = (token: string) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, next: '/' }).toString() });
      const c1 = new KeepAliveClient(m.url);
      const login = await c1.request('POST', '/login', form('first-admin-token-0123456789'));
      const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? [])[0]!.split(';')[0]!;
      expect((await c1.request('GET', '/', { headers: { cookie } })).text).toContain('id="main"');
      c1.close();
      await m.stop();
      m = await startLocalMaster({ port: 0, dataDir: rdir, adminToken: 'second-admin-token-0123456789' });
      const c2 = new KeepAliveClient(m.url);
      expect((await c2.request('GET', '/', { headers: { cookie } })).text).toContain('data-page="login"');
      expect((await c2.request('GET', '/bangs', { headers: { cookie } })).status).toBe(303);
      expect((await c2.request('POST', '/login', form('first-admin-token-0123456789'))).status).toBe(401);
      expect((await c2.request('POST', '/login', form('second-admin-token-0123456789'))).status).toBe(303);
      c2.close();
    } finally {
      await m.stop();
      rmSync(rdir, { recursive: true, force: true });
    }
  });
});

describe('item 6: failure limiter (429 + Retry-After), never against valid tokens', () => {
  const wrongLogin = (c: KeepAliveClient, extra: Record<string, string> = {}) =>
    c.request('POST', '/login', { headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra }, body: 'token=guess&next=%2F' });
  const heartbeat = (c: KeepAliveClient) =>
    c.request('POST', '/v1/computers/comp/heartbeat', { headers: jsonHeaders(computerToken), body: JSON.stringify({ agentVersion: 'limiter-test' }) });

  it('a burst of wrong dashboard logins → 429 with Retry-After; a valid computer from that address still passes', async () => {
    const c = client('127.0.0.41');
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 40; i++) {
      const r = await wrongLogin(c);
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers['retry-after'] as string;
      if (i === 20) expect((await heartbeat(c)).status).toBe(200);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(30).fill(429));
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    // a forged X-Forwarded-For does not make a new client
    expect((await wrongLogin(c, { 'x-forwarded-for': '203.0.113.99' })).status).toBe(429);
    // decided: a limited address gets no admin-token comparison, not even for the right one
    const rightLogin = (k: KeepAliveClient) =>
      k.request('POST', '/login', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: ADMIN, next: '/' }).toString() });
    const same = await rightLogin(c);
    expect(same.status).toBe(429);
    expect(same.headers['set-cookie']).toBeUndefined();
    expect(same.text).toContain('Too many failed logins');
    // the right admin token from another address logs in
    expect((await rightLogin(client('127.0.0.42'))).status).toBe(303);
  });

  it('a burst of wrong bearer tokens on /v1 → 429; the valid computer token still works from the same address', async () => {
    const c = client('127.0.0.43');
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push((await c.request('GET', '/v1/computers', { headers: bearer(`guess-${i}`) })).status);
      if (i % 5 === 4) expect((await heartbeat(c)).status).toBe(200);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(20).fill(429));
    const limited = await c.request('GET', '/v1/computers', { headers: bearer('guess') });
    expect(limited.json.error).toBe('too_many_failures');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // computer routes (which also compare the admin token, to refuse it with a 403 or take a
    // manual bang) stay 401 while limited, and compare no admin token either: an agent reads
    // a 429 on a bang as "daily quota used"
    const bangBody = JSON.stringify({ bangId: 'limited-bang', message: 'm', source: 'manual' });
    expect((await c.request('POST', '/v1/partitions/p-misc/bang', { headers: jsonHeaders('garbage'), body: bangBody })).status).toBe(401);
    expect((await c.request('POST', '/v1/partitions/p-misc/bang', { headers: jsonHeaders(ADMIN), body: bangBody })).status).toBe(401);
    expect((await c.request('POST', '/v1/computers/comp/heartbeat', { headers: jsonHeaders(ADMIN), body: '{"agentVersion":"x"}' })).status).toBe(401);
    // a stale computer token is still told 401 (the agent spools and says to fix the token), and does not count
    const stale = `vc1.${Buffer.from('comp').toString('base64url')}.stale-secret`;
    for (let i = 0; i < 3; i++) {
      expect((await c.request('POST', '/v1/computers/comp/heartbeat', { headers: jsonHeaders(stale), body: '{"agentVersion":"x"}' })).status).toBe(401);
    }
    const other = client('127.0.0.45');
    for (let i = 0; i < 30; i++) expect((await other.request('POST', '/v1/computers/comp/heartbeat', { headers: jsonHeaders(stale), body: '{"agentVersion":"x"}' })).status).toBe(401);
    expect((await other.request('GET', '/v1/computers', { headers: bearer(ADMIN) })).status).toBe(200);
    const hb = await c.request('POST', '/v1/partitions/p-misc/reports', { headers: jsonHeaders(computerToken), body: JSON.stringify(report('r-limited', new Date(), [{ name: 'a.json' }])) });
    expect(hb.status).toBe(202);
    // admin requests from another address are not affected
    expect((await client('127.0.0.44').request('GET', '/v1/computers', { headers: bearer(ADMIN) })).status).toBe(200);
  });

  it('a distributed burst (many addresses, few failures each) trips the global limit; valid tokens still pass', async () => {
    // afterwards the global bucket is empty for a while: later tests use fresh addresses and right tokens
    const statuses: number[] = [];
    for (let a = 0; a < 70; a++) {
      const c = client(`127.0.1.${a + 1}`);
      for (let i = 0; i < 4; i++) statuses.push((await c.request('GET', '/v1/computers', { headers: bearer(`guess-${a}-${i}`) })).status);
      c.close();
    }
    // 280 failures, 4 per address (under the per-address limit of 10): the global limit (200) answers the rest
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(50);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    const fresh = client('127.0.2.1');
    expect((await heartbeat(fresh)).status).toBe(200);
    expect((await fresh.request('GET', '/v1/computers', { headers: bearer(ADMIN) })).status).toBe(200);
  });
});

describe('item 7: bidi controls in agent-controlled text are neutralised on every page', () => {
  const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

  it('partition and crimes pages show a visible marker instead of the controls', async () => {
    const name = 'evil\u202Egnp.json';
    for (let i = 0; i < 3; i++) {
      const r = await api('POST', '/v1/partitions/p-bidi/reports', computerToken, report(`r-bidi-${i}`, new Date(Date.now() - (3 - i) * 60_000), [
        { name, failed: true, message: 'status \u2066admin\u2069 \u200Fok\u200E \u061C done' },
      ]));
      expect(r.status).toBe(202);
    }
    const c = client('127.0.0.51');
    const login = await c.request('POST', '/login', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: ADMIN, next: '/' }).toString(),
    });
    const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? [])[0]!.split(';')[0]!;
    for (const path of ['/partitions/p-bidi', '/crimes', '/', '/trees', '/trees/tree']) {
      const pg = await c.request('GET', path, { headers: { cookie } });
      expect(pg.status, path).toBe(200);
      expect(BIDI.test(pg.text), `${path} holds a raw bidi control`).toBe(false);
    }
    const partition = await c.request('GET', '/partitions/p-bidi', { headers: { cookie } });
    expect(partition.text).toContain('evil[U+202E]gnp.json');
    expect(partition.text).toContain('[U+2066]admin[U+2069]');
    const crimes = await c.request('GET', '/crimes', { headers: { cookie } });
    expect(crimes.text).toContain('evil[U+202E]gnp.json');
    // the API keeps the data as sent
    const pr = await api('GET', '/v1/partitions/p-bidi/promises');
    expect(pr.json.promises[0].name).toBe(name);
  });
});
