// The dashboard mounted in the real master app (createApp on DynamoDB Local + the queue
// emulator, test clock), driven over app.request without a browser: login/cookie rules,
// times from the master clock, quota-rejected bangs, crimes, 404s, security headers.
// The browser scenario is test/e2e/dashboard-browser.test.ts.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BANG_LOG_ROWS } from '../../functions/dashboard/pages.tsx';
import { quotaCounterExpiresAt, quotaDay } from '../../functions/domain/quota.ts';
import { fanOutBang } from '../../functions/services/fanout.ts';
import { createApiHandler } from '../../functions/handlers/api.ts';
import { functionUrlEvent, lambdaContext } from '../helpers/cloud-events.ts';
import { captureObservability } from '../helpers/cloud-obs.ts';
import { createTestMaster, type TestMaster, testClock } from '../helpers/master.ts';

let m: TestMaster;
let token = '';
let cookie = '';
const clock = testClock('2025-06-01T12:00:00.000Z');

async function page(path: string, headers: Record<string, string> = {}) {
  const res = await m.app.request(path, { headers: { cookie, ...headers } });
  return { status: res.status, headers: res.headers, html: await res.text() };
}

function report(id: string, minutesAgo: number, opts: { failed: boolean; durationMs?: number }) {
  const started = new Date(clock.now().getTime() - minutesAgo * 60_000).toISOString();
  return {
    reportId: id,
    kind: 'instantiation',
    startedAt: started,
    durationMs: opts.durationMs ?? 900,
    ok: !opts.failed,
    promises: [
      {
        name: 'check-api.json',
        title: 'check-api',
        kind: 'test',
        failed: opts.failed,
        message: opts.failed ? 'GET /health: 503' : 'ok',
        date: started,
        executionTimeMs: 40,
      },
    ],
  };
}

beforeAll(async () => {
  m = await createTestMaster({ clock, dashboard: true });
  expect((await m.call('PUT', '/v1/software-releases/sr', { url: 'https://example.invalid/sr', bangQuotaPerDay: 1 })).status).toBeLessThan(300);
  const created = await m.api.putComputer('comp');
  if (!created.created) throw new Error('computer comp existed');
  token = created.token.token;
  for (const id of ['alpha', 'beta']) {
    expect((await m.call('PUT', `/v1/partitions/${id}`, { computerId: 'comp', instanceTreeId: 'tree', softwareReleaseId: 'sr' })).status).toBeLessThan(300);
  }
  clock.advance(-3 * 60_000);
  expect((await m.call('POST', '/v1/computers/comp/heartbeat', { agentVersion: 'itest-1.2' }, token)).status).toBe(200);
  clock.advance(3 * 60_000);
  // alpha: 3 failing instantiations, the last one 75 s long → red, promise-never-passes, slow-instantiation
  for (const [i, ago] of [30, 20, 10].entries()) {
    const r = await m.call('POST', '/v1/partitions/alpha/reports', report(`a${i}`, ago, { failed: true, durationMs: i === 2 ? 75_000 : 900 }), token);
    expect(r.status).toBe(202);
  }
  expect((await m.call('POST', '/v1/partitions/beta/reports', report('b0', 5, { failed: false }), token)).status).toBe(202);

  const login = await m.app.request('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: m.adminToken, next: '/bangs' }).toString(),
  });
  expect(login.status).toBe(303);
  expect(login.headers.get('location')).toBe('/bangs');
  const setCookie = login.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(/HttpOnly/i);
  expect(setCookie).toMatch(/SameSite=Strict/i);
  expect(setCookie).not.toMatch(/Secure/i);
  expect(setCookie).not.toContain(m.adminToken);
  cookie = setCookie.split(';')[0]!;
});

afterAll(async () => {
  await m?.dispose();
});

describe('dashboard on the real app', () => {
  test('Secure cookie behind HTTPS; wrong or missing token → 401 page, no cookie', async () => {
    const https = await m.app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      body: new URLSearchParams({ token: m.adminToken }).toString(),
    });
    expect(https.headers.get('set-cookie')).toMatch(/;\s*Secure/i);
    for (const body of [{ token: 'nope' }, { token: '' }, {} as Record<string, string>, { token: `${m.adminToken} x` }]) {
      const res = await m.app.request('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body).toString(),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.text()).toContain('Wrong admin token');
    }
    // a computer token is not an admin token
    const comp = await m.app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(comp.status).toBe(401);
  });

  test('no page without the cookie: / is the login form, others redirect; API stays Bearer-only', async () => {
    const res = await m.app.request('/partitions/alpha');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fpartitions%2Falpha');
    expect(await res.text()).not.toContain('check-api');
    // `/` answers the login form itself (a plain curl sees 200), posting to /login, next=/
    const variants: Record<string, string>[] = [{}, { cookie: `vigil_session=v1.9999999999.${'A'.repeat(43)}` }];
    for (const headers of variants) {
      const root = await m.app.request('/', { headers });
      expect(root.status).toBe(200);
      expect(root.headers.get('set-cookie')).toBeNull();
      expect(root.headers.get('content-security-policy')).toContain("default-src 'none'");
      const form = await root.text();
      expect(form).toContain('data-page="login"');
      expect(form).toMatch(/<form method="post" action="\/login">/);
      expect(form).toMatch(/name="next" value="\/"/);
      expect(form).toContain('name="token"');
      for (const data of ['alpha', 'beta', 'check-api', 'itest-1.2', 'data-computer', 'data-partition']) expect(form).not.toContain(data);
    }
    for (const path of ['/trees', '/trees/tree', '/bangs', '/crimes', '/computers/comp']) {
      const r = await m.app.request(path);
      expect(r.status, path).toBe(303);
      expect(r.headers.get('location'), path).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    const api = await m.app.request('/v1/partitions', { headers: { cookie } });
    expect(api.status).toBe(401);
    // assets are public and static
    const js = await m.app.request('/assets/dashboard.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    // an expired session is refused (12 h)
    clock.advance(12 * 3600_000 + 1000);
    const expired = await page('/');
    expect(expired.status).toBe(200);
    expect(expired.html).toContain('data-page="login"');
    expect(expired.html).not.toContain('data-computer');
    expect((await page('/bangs')).status).toBe(303);
    clock.advance(-(12 * 3600_000 + 1000));
    const fresh = await page('/');
    expect(fresh.status).toBe(200);
    expect(fresh.html).toContain('data-computer="comp"');
    expect(fresh.html).not.toContain('data-page="login"');
  });

  test('fleet: master-clock times, colours with labels, counts, security headers', async () => {
    const { status, html, headers } = await page('/');
    expect(status).toBe(200);
    expect(headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(headers.get('cache-control')).toBe('no-store');
    const row = html.slice(html.indexOf('data-computer="comp"'), html.indexOf('</tr>', html.indexOf('data-computer="comp"')));
    expect(row).toContain('3 min ago');
    expect(row).toMatch(/class="since"[^>]*>since <time[^>]*>3 min ago</); // green since its heartbeat
    expect(row).toContain('data-colour="green"');
    expect(row).toContain('>OK</span>');
    expect(row).toContain('data-partitions="2"');
    expect(row).toContain('itest-1.2');
    expect(html).toMatch(/data-count="partitions-red"[\s\S]*?<b>1<\/b>/);
    expect(html).toMatch(/data-partition="alpha" data-colour="red"/);
    expect(html).toContain('promise check-api');
  });

  test('partition: chart points = history entries, reports with durations, crimes', async () => {
    const api = await m.api.partitionPromises('alpha');
    const { html } = await page('/partitions/alpha');
    expect(html.match(/<circle data-point/g)).toHaveLength(api.promises[0]?.history.length ?? -1);
    expect(api.promises[0]?.history).toHaveLength(3);
    expect(html.match(/data-status="failed"/g)).toHaveLength(3);
    expect(html).toContain('1 min 15 s'); // the 75 s instantiation
    expect(html).toContain('promise-never-passes');
    expect(html).toContain('slow-instantiation');
    const crimes = await page('/crimes');
    expect(crimes.html).toMatch(/data-crime-partition="alpha" data-rule="promise-never-passes"/);
    expect(crimes.html).toMatch(/data-crime-partition="alpha" data-rule="slow-instantiation"/);
    expect(crimes.html).not.toContain('data-crime-partition="beta"');
  });

  test('bang accepted then rejected by quota: bang log, quota use, tree pending reprocess', async () => {
    clock.advance(60_000); // the bang 1 min after the reports, the pages 1 min after the bang
    const ok = await m.call('POST', '/v1/partitions/beta/bang', { bangId: 'bang-1', message: 'disk full', source: 'watchdog' }, token);
    expect(ok.status).toBe(202);
    const over = await m.call('POST', '/v1/partitions/beta/bang', { bangId: 'bang-2', message: 'again', source: 'manual' }, token);
    expect(over.status).toBe(429);
    // fan out the accepted bang as the queue consumer would
    await fanOutBang({ store: m.store, now: clock.now }, {
      bangId: 'bang-1',
      partitionId: 'beta',
      computerId: 'comp',
      instanceTreeId: 'tree',
      requestedAt: clock.now().toISOString(),
      reason: 'bang from beta (watchdog): disk full',
    });
    const bangs = await page('/bangs');
    expect(bangs.html).toMatch(/data-bang="bang-1" data-accepted="true"/);
    expect(bangs.html).toMatch(/data-bang="bang-2" data-accepted="false"/);
    expect(bangs.html).toContain('rejected: over quota');
    expect(bangs.html).toMatch(/data-quota-partition="beta" data-used="1"/);
    expect(bangs.html).toContain('(quota reached)');
    clock.advance(60_000);
    const tree = await page('/trees/tree');
    expect(tree.html.match(/data-reprocess="pending"/g)).toHaveLength(2);
    expect(tree.html).toContain('disk full');
    // instance trees: every partition with colour + label and reason, last report, last bang,
    // pending reprocess (since when, why)
    const trees = await page('/trees');
    const section = trees.html.slice(trees.html.indexOf('data-tree="tree"'));
    const row = (id: string) => {
      const at = section.indexOf(`data-partition="${id}"`);
      expect(at, id).toBeGreaterThan(0);
      return section.slice(at, section.indexOf('</tr>', at));
    };
    const cell = (html: string, label: string) => {
      const at = html.indexOf(`data-label="${label}"`);
      expect(at, label).toBeGreaterThan(0);
      return html.slice(at, html.indexOf('</td>', at)).replace(/<[^>]+>/g, '');
    };
    const alpha = row('alpha');
    expect(alpha).toMatch(/class="badge red"[^>]*>FAIL</);
    expect(cell(alpha, 'Status')).toContain('bang at 2025-06-01T12:01:00.000Z after the last report');
    expect(cell(alpha, 'Last report')).toContain('2 min ago (failed)');
    expect(cell(alpha, 'Last bang')).toContain('1 min ago'); // the tree's bang, fanned out
    expect(cell(alpha, 'Pending reprocess')).toMatch(/pending since 1 min ago — bang from beta \(watchdog\): disk full/);
    const beta = row('beta');
    expect(beta).toMatch(/class="badge red"[^>]*>FAIL</);
    expect(cell(beta, 'Status')).toContain('bang at');
    expect(cell(beta, 'Last report')).toBe('data-label="Last report">2 min ago');
    expect(cell(beta, 'Last bang')).toContain('1 min ago');
    expect(cell(beta, 'Pending reprocess')).toContain('pending since 1 min ago');
  });

  test('unknown ids → 404 page; bad ids → error page, never a 5xx', async () => {
    const missing = await page('/partitions/nope');
    expect(missing.status).toBe(404);
    expect(missing.html).toContain('Not found');
    const bad = await page(`/partitions/${encodeURIComponent('bad id!')}`);
    expect(bad.status).toBeLessThan(500);
    const tree = await page('/trees/none-such');
    expect(tree.status).toBeLessThan(500);
  });

  test('on Lambda (function URL event): login form at /, Secure session cookie, then the fleet', async () => {
    const handler = createApiHandler(m.deps, captureObservability('vigil-api'));
    type LambdaRes = { statusCode: number; body: string; headers?: Record<string, string>; cookies?: string[]; isBase64Encoded?: boolean };
    const send = async (req: Parameters<typeof functionUrlEvent>[0]) => {
      const r = (await handler(functionUrlEvent(req) as never, lambdaContext('vigil-api'))) as LambdaRes;
      return { ...r, text: r.isBase64Encoded ? Buffer.from(r.body, 'base64').toString('utf8') : r.body };
    };
    const root = await send({ method: 'GET', path: '/' });
    expect(root.statusCode).toBe(200);
    expect(root.text).toContain('data-page="login"');
    expect(root.text).not.toContain('data-computer');
    const login = await send({
      method: 'POST',
      path: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: m.adminToken, next: '/' }).toString(),
    });
    expect(login.statusCode).toBe(303);
    const set = [...(login.cookies ?? []), login.headers?.['set-cookie'] ?? ''].join('\n');
    expect(set).toMatch(/vigil_session=v2\.[^;]+;.*HttpOnly/i);
    expect(set).toMatch(/;\s*Secure/i);
    expect(set).toMatch(/SameSite=Strict/i);
    const session = set.match(/vigil_session=[^;\s]+/)![0];
    const fleet = await send({ method: 'GET', path: '/', cookies: [session] });
    expect(fleet.statusCode).toBe(200);
    expect(fleet.text).toContain('data-computer="comp"');
    const bangs = await send({ method: 'GET', path: '/bangs' });
    expect(bangs.statusCode).toBe(303);
  });

  test('busy day: quota use counts past the log rows shown (up to 1,000 bangs read)', async () => {
    expect((await m.call('PUT', '/v1/software-releases/busy-sr', { url: 'https://example.invalid/busy', bangQuotaPerDay: 500 })).status).toBeLessThan(300);
    expect((await m.call('PUT', '/v1/partitions/busy', { computerId: 'comp', instanceTreeId: 'busy-tree', softwareReleaseId: 'busy-sr' })).status).toBeLessThan(300);
    const n = BANG_LOG_ROWS + 5;
    // one bang through the API, the rest straight into the store (faster than n API calls),
    // each taking its share of the quota as an accepted bang does
    expect((await m.call('POST', '/v1/partitions/busy/bang', { bangId: 'busy-0', message: 'flap 0', source: 'promise' }, token)).status).toBe(202);
    const at = clock.now().toISOString();
    for (let i = 1; i < n; i += 50) {
      const batch = Array.from({ length: Math.min(50, n - i) }, async (_, j) =>
        (await m.store.consumeBangQuota('busy', quotaDay(clock.now()), 500, quotaCounterExpiresAt(clock.now()))) &&
        m.store.createBang({
          bangId: `busy-${i + j}`,
          partitionId: 'busy',
          computerId: 'comp',
          instanceTreeId: 'busy-tree',
          message: `flap ${i + j}`,
          source: 'promise',
          createdAt: at,
          fanOutCompletedAt: null,
          fannedOutTo: 1,
          fanOut: 'pending',
          accepted: true,
        }),
      );
      expect(await Promise.all(batch)).not.toContain(false);
    }
    const bangs = await page('/bangs');
    expect(bangs.html).toMatch(/data-quota-partition="busy" data-used="205"/);
    expect(bangs.html).toContain(`latest ${BANG_LOG_ROWS} of ${n + 2} in the log`);
    expect(bangs.html.match(/<tr[^>]* data-bang=/g)).toHaveLength(BANG_LOG_ROWS);
  });
});
