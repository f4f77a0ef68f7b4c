// The dashboard mounted in the real master app (createApp on DynamoDB Local + the queue
// emulator, test clock), driven over app.request without a browser: login/cookie rules,
// times from the master clock, quota-rejected bangs, crimes, 404s, security headers; and a
// fleet larger than one page: every list page shows `limit` rows and its next link reaches
// every item exactly once, filters, search, the summary, and no list read without a limit.
// The browser scenario is test/e2e/dashboard-browser.test.ts.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDashboard } from '../../functions/dashboard/index.tsx';
import { createSessions } from '../../functions/dashboard/sessions.ts';
import { mapLimit } from '../../functions/lib/concurrency.ts';
import { quotaCounterExpiresAt, quotaDay } from '../../functions/domain/quota.ts';
import { fanOutBang } from '../../functions/services/fanout.ts';
import { runSweep } from '../../functions/services/sweep.ts';
import { createApiHandler } from '../../functions/handlers/api.ts';
import { functionUrlEvent, lambdaContext } from '../helpers/cloud-events.ts';
import { captureObservability } from '../helpers/cloud-obs.ts';
import { createTestMaster, type TestMaster, testClock } from '../helpers/master.ts';
import { allPages } from '../../protocol/client.ts';

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
    expect(row).toContain('href="/partitions?colour=red&amp;computer=comp"');
    expect(row).toContain('itest-1.2');
    // the summary (GET /v1/summary) may lag by one sweep: it is read as the API answers it
    const summary = await m.api.summary();
    expect(html).toMatch(new RegExp(`data-count="partitions-red"[^>]*>[\\s\\S]*?<b>${summary.partitions.red}</b>`));
    expect(html).toMatch(new RegExp(`data-count="computers-green"[^>]*>[\\s\\S]*?<b>${summary.computers.green}</b>`));
    // the failing partitions: the first page of GET /v1/partitions?colour=red
    const failing = html.slice(html.indexOf('id="failing"'));
    expect(failing).toMatch(/data-partition="alpha" data-colour="red"/);
    expect(failing).not.toContain('data-partition="beta"');
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
    // quota use today: on the partition's page, and on the bang log filtered by the partition
    const betaBangs = await page('/bangs?partition=beta');
    expect(betaBangs.html).toMatch(/data-quota-partition="beta" data-used="1"/);
    expect(betaBangs.html).toContain('(quota reached)');
    expect((await page('/partitions/beta')).html).toMatch(/data-quota-used="1" data-quota="1">1 \/ 1 \(UTC day\) — quota reached/);
    clock.advance(60_000);
    const tree = await page('/trees/tree');
    expect(tree.html.match(/data-reprocess="pending"/g)).toHaveLength(2);
    expect(tree.html).toContain('disk full');
    // the partitions list (and /trees, the same list) filtered by tree: every partition with
    // colour + label and reason, last report, last bang, pending reprocess (since when, why)
    const trees = await page('/trees?tree=tree');
    expect(trees.status).toBe(200);
    const section = trees.html.slice(trees.html.indexOf('id="partitions"'));
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

  test('notifications: the refused bang on /events, a silence of the computer on its pages and /silences, a channel on /channels', async () => {
    const events = await page('/events');
    expect(events.status).toBe(200);
    expect(events.html).toMatch(/data-type="bang.rejected"/);
    expect(events.html).toContain('bang refused: daily quota of 1 used');
    expect((await page('/events?partition=alpha')).html).not.toMatch(/data-type="bang.rejected"/);
    const from = clock.now();
    await m.api.putSilence('comp-upgrade', {
      match: { computerId: 'comp' },
      startsAt: from.toISOString(),
      endsAt: new Date(from.getTime() + 3_600_000).toISOString(),
      reason: 'kernel upgrade',
    });
    for (const path of ['/partitions/alpha', '/computers/comp']) {
      const r = await page(path);
      expect(r.html, path).toMatch(/id="silenced"[^>]*data-silences="comp-upgrade"/);
      expect(r.html, path).toContain('kernel upgrade');
    }
    expect((await page('/trees/tree')).html).not.toContain('id="silenced"'); // a computer's silence is not the tree's
    expect((await page('/silences')).html).toMatch(/data-silence="comp-upgrade" data-state="active"/);
    await m.api.endSilence('comp-upgrade');
    expect((await page('/partitions/alpha')).html).not.toContain('id="silenced"');
    expect((await page('/silences')).html).toMatch(/data-silence="comp-upgrade" data-state="ended"/);
    await m.api.putChannel('ops-hook', { kind: 'webhook', url: 'https://hooks.example.invalid/vigil?token=secret-value' });
    const channels = await page('/channels');
    expect(channels.html).toMatch(/data-channel="ops-hook" data-health="idle"/);
    expect(channels.html).not.toContain('secret-value');
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

  test('busy day: the bang log is paged, newest first, every bang once; quota use is the counter', async () => {
    expect((await m.call('PUT', '/v1/software-releases/busy-sr', { url: 'https://example.invalid/busy', bangQuotaPerDay: 500 })).status).toBeLessThan(300);
    expect((await m.call('PUT', '/v1/partitions/busy', { computerId: 'comp', instanceTreeId: 'busy-tree', softwareReleaseId: 'busy-sr' })).status).toBeLessThan(300);
    const n = 205;
    // one bang through the API, the rest straight into the store (faster than n API calls),
    // each taking its share of the quota as an accepted bang does
    expect((await m.call('POST', '/v1/partitions/busy/bang', { bangId: 'busy-0', message: 'flap 0', source: 'promise' }, token)).status).toBe(202);
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
          createdAt: new Date(clock.now().getTime() + (i + j) * 1000).toISOString(),
          fanOutCompletedAt: null,
          fannedOutTo: 1,
          fanOut: 'pending',
          accepted: true,
        }),
      );
      expect(await Promise.all(batch)).not.toContain(false);
    }
    const pages = await crawl('/bangs?partition=busy', 'data-bang', 50);
    expect(pages.map((p) => p.length)).toEqual([50, 50, 50, 50, 5]);
    expectOnce(pages, Array.from({ length: n }, (_, i) => `busy-${i}`));
    expect(pages[0]![0]).toBe(`busy-${n - 1}`); // newest first
    const all = await crawl('/bangs?limit=100', 'data-bang', 100);
    expect(all.flat().length).toBe(n + 2);
    const busy = await page('/bangs?partition=busy');
    expect(busy.html).toMatch(new RegExp(`data-quota-partition="busy" data-used="${n}"`));
  });
});

// ------------------------------------------------------------------------------------------ paging

const unescapeHtml = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
const nextLink = (html: string, pager = '') => {
  const from = pager ? html.slice(html.indexOf(`data-list="${pager}"`)) : html;
  const found = from.match(/<a href="([^"]+)" rel="next" data-goto="next">/);
  return found ? unescapeHtml(found[1]!) : null;
};
const rowIds = (html: string, attr: string) => [...html.matchAll(new RegExp(`<tr[^>]* ${attr}="([^"]+)"`, 'g'))].map((x) => x[1]!);

/** The rows of every page from `path` on, following "Next page" (each page ≤ limit rows, ≤ 1 MiB). */
async function crawl(path: string, attr: string, limit: number, get: (path: string) => Promise<{ status: number; html: string }> = page): Promise<string[][]> {
  const pages: string[][] = [];
  let href: string | null = path;
  while (href) {
    const r = await get(href);
    expect(r.status, href).toBe(200);
    expect(Buffer.byteLength(r.html), href).toBeLessThanOrEqual(1024 * 1024);
    const rows = rowIds(r.html, attr);
    expect(rows.length, href).toBeLessThanOrEqual(limit);
    pages.push(rows);
    href = nextLink(r.html);
    expect(pages.length, 'pages').toBeLessThan(100);
  }
  return pages;
}

function expectOnce(pages: string[][], expected: string[]) {
  const seen = pages.flat();
  expect(seen.length - new Set(seen).size, 'rows seen twice').toBe(0);
  expect([...seen].sort()).toEqual([...expected].sort());
}

describe('a fleet larger than one page', () => {
  // 130 computers × 2 partitions: the first 60 partitions in tree `big`, the others in trees
  // of 10; every other partition green (a kept report), the rest red (no report yet)
  const COMPUTERS = 130;
  const cid = (c: number) => `fleet-c${String(c).padStart(3, '0')}`;
  const pid = (n: number) => `fleet-p${String(n).padStart(3, '0')}`;
  const tree = (n: number) => (n < 60 ? 'big' : `fleet-t${Math.floor(n / 10)}`);
  const partitions: { id: string; computer: string; tree: string; green: boolean }[] = [];

  beforeAll(async () => {
    const tokens = await mapLimit(
      Array.from({ length: COMPUTERS }, (_, c) => c),
      8,
      async (c) => {
        const r = await m.api.putComputer(cid(c));
        if (!r.created) throw new Error(`${cid(c)} existed`);
        return r.token.token;
      },
    );
    for (let n = 0; n < COMPUTERS * 2; n++) partitions.push({ id: pid(n), computer: cid(n % COMPUTERS), tree: tree(n), green: n % 2 === 0 });
    await mapLimit(partitions, 8, async (p) => {
      await m.api.putPartition(p.id, { computerId: p.computer, instanceTreeId: p.tree, softwareReleaseId: 'sr' });
      if (p.green) {
        const at = clock.now().toISOString();
        const token = tokens[Number(p.computer.slice(-3))]!;
        await m.as(token).report(p.id, { reportId: `${p.id}-r`, kind: 'instantiation', startedAt: at, durationMs: 10, ok: true, promises: [] });
      }
    });
  }, 180_000);

  test('fleet page: `limit` computers a page, next reaches each computer once, colour filter', async () => {
    const all = (await collect((cursor) => m.api.listComputers({ limit: 1000, cursor }))).flatMap((p) => p.computers);
    expect(all.length).toBeGreaterThan(COMPUTERS);
    const pages = await crawl('/?limit=50', 'data-computer', 50);
    expect(pages[0]).toHaveLength(50);
    expectOnce(pages, all.map((c) => c.computerId));
    const red = await crawl('/?colour=red&limit=50', 'data-computer', 50);
    expectOnce(red, all.filter((c) => c.colour === 'red').map((c) => c.computerId));
  });

  test('partitions page: paged, and filtered by colour, tree and computer', async () => {
    const all = (await collect((cursor) => m.api.listPartitions({ limit: 1000, cursor }))).flatMap((p) => p.partitions);
    const pages = await crawl('/partitions?limit=50', 'data-partition', 50);
    expect(pages[0]).toHaveLength(50);
    expectOnce(pages, all.map((p) => p.partitionId));
    // ?colour=red lists the partitions recorded red (one that turned red by time or by a bang
    // is recorded by the next sweep): the dashboard shows what the API's filter gives
    const apiRed = (await collect((cursor) => m.api.listPartitions({ colour: 'red', limit: 1000, cursor }))).flatMap((p) => p.partitions.map((x) => x.partitionId));
    expect(apiRed).toEqual(expect.arrayContaining(partitions.filter((p) => !p.green).map((p) => p.id)));
    expectOnce(await crawl('/partitions?colour=red&limit=50', 'data-partition', 50), apiRed);
    // after a sweep, the filter holds every partition red at the master's clock
    await runSweep({ store: m.store }, clock.now());
    const red = all.filter((p) => p.colour === 'red').map((p) => p.partitionId);
    expectOnce(await crawl('/partitions?colour=red&limit=50', 'data-partition', 50), red);
    expectOnce(await crawl('/trees?colour=green&tree=big&limit=50', 'data-partition', 50), partitions.filter((p) => p.tree === 'big' && p.green).map((p) => p.id));
    expectOnce(await crawl(`/partitions?computer=${cid(7)}`, 'data-partition', 100), [pid(7), pid(7 + COMPUTERS)]);
    expectOnce(await crawl(`/computers/${cid(7)}?colour=green`, 'data-partition', 100), [pid(7 + COMPUTERS)].concat(pid(7)).filter((id) => partitions.find((p) => p.id === id)!.green));
  });

  test('tree page: pages its partitions; colour and reason of the whole tree', async () => {
    const api = await m.api.getInstanceTree('big', { limit: 1 });
    const pages = await crawl('/trees/big?limit=50', 'data-partition', 50);
    expect(pages.map((p) => p.length)).toEqual([50, 10]);
    expectOnce(pages, partitions.filter((p) => p.tree === 'big').map((p) => p.id));
    const first = await page('/trees/big?limit=50');
    expect(first.html).toMatch(new RegExp(`Instance tree big <span class="badge ${api.colour}"`));
    expect(first.html).toContain(api.colourReason.replace(/&/g, '&amp;'));
  });

  test('search: an exact id goes to its page; an unknown one says so', async () => {
    expect((await m.app.request(`/?q=${cid(12)}`, { headers: { cookie } })).headers.get('location')).toBe(`/computers/${cid(12)}`);
    expect((await m.app.request(`/partitions?q=${pid(12)}`, { headers: { cookie } })).headers.get('location')).toBe(`/partitions/${pid(12)}`);
    expect((await m.app.request('/partitions?q=big', { headers: { cookie } })).headers.get('location')).toBe('/trees/big');
    const none = await page('/?q=fleet-c999');
    expect(none.status).toBe(200);
    expect(none.html).toContain('No computer, partition, tree has the id &quot;fleet-c999&quot;');
  });

  test('no dashboard page reads a list without a limit (every API path the data layer asks for is recorded)', async () => {
    const requested: string[] = [];
    const dash = createDashboard({
      adminToken: () => m.adminToken,
      now: clock.now,
      api: (path, init) => {
        requested.push(path);
        return m.app.request(path, init);
      },
      sessions: createSessions({ store: m.store, now: clock.now }),
    });
    const login = await dash.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: m.adminToken, next: '/' }).toString(),
    });
    const own = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const get = async (path: string) => {
      const res = await dash.request(path, { headers: { cookie: own } });
      return { status: res.status, html: await res.text() };
    };
    const paths = ['/', '/?colour=red', '/partitions', '/trees?tree=big', '/computers/comp', '/trees/tree', '/trees/big', '/partitions/alpha', '/bangs', '/bangs?partition=busy', '/crimes', `/?q=${pid(3)}`];
    for (const path of paths) {
      requested.length = 0;
      expect((await get(path)).status, path).toBeLessThan(400);
      const lists = requested.filter((r) => /^\/v1\/(computers|partitions|bangs|software-releases)(\?|$)|^\/v1\/instance-trees\/|\/promises(\?|$)/.test(r));
      for (const r of lists) {
        const limit = Number(new URL(r, 'http://x').searchParams.get('limit'));
        expect(limit, `${path} → ${r}`).toBeGreaterThanOrEqual(1);
        expect(limit, `${path} → ${r}`).toBeLessThanOrEqual(200);
      }
      expect(requested.length, `${path}: ${requested.join(' ')}`).toBeLessThanOrEqual(4);
    }
    // paging through the fleet page reads one page per view
    const pages = await crawl('/?limit=50', 'data-computer', 50, get);
    expect(pages.length).toBeGreaterThan(2);
  });
});

/** Every page of a list through the typed client (the API's own paging). */
async function collect<P extends { nextCursor: string | null }>(fetchPage: (cursor: string | undefined) => Promise<P>): Promise<P[]> {
  const out: P[] = [];
  for await (const p of allPages(fetchPage)) out.push(p);
  return out;
}
