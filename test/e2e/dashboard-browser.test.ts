// The dashboard in a real headless Chromium (Debian package `chromium`, driven by
// playwright-core) against a real `node dist/vigil.mjs master --demo`: login, fleet →
// filter red → a red partition's history chart, paging click-through (next / first, the
// 30 s refresh keeps the page), a bang seen in the bang log and as pending reprocess after
// the auto-refresh (clock fast-forwarded in the page), logout, no data without the
// cookie, no horizontal scroll at phone width.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ComputerToken } from '../../protocol/index.ts';
import { launchChromium, type RunningMaster, startDemoMaster, until } from '../helpers/dashboard.ts';

/** What the tests read of the page's window (evaluated in the browser). */
type InPage = { document: { documentElement: { scrollWidth: number } }; scrollTo(x: number, y: number): void; scrollY: number };

let master: RunningMaster;
let browser: Browser;
let computerToken = '';

const SR = 'e2e-sr';
const COMPUTER = 'e2e-computer';
const TREE = 'e2e-tree';
const RED = 'e2e-red';
const GREEN = 'e2e-green';
const REPORTS = 5;
/** A tree larger than a page of 50 rows, for paging. */
const MANY_TREE = 'e2e-many';
const MANY = 61;
const many = (i: number) => `e2e-many-${String(i).padStart(2, '0')}`;

async function computerCall(method: string, path: string, body: unknown) {
  const res = await fetch(`${master.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${computerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

function report(i: number, failing: boolean) {
  const started = new Date(Date.now() - (REPORTS - i) * 120_000);
  return {
    reportId: `e2e-report-${i}`,
    kind: i === 0 ? 'instantiation' : 'anomaly',
    startedAt: started.toISOString(),
    durationMs: 100 + i,
    ok: !failing,
    promises: [
      {
        name: 'check-e2e-port.json',
        title: 'check-e2e-port',
        kind: 'anomaly',
        failed: failing,
        // a long unbreakable URL in the message (and so in the colour reason): it must wrap on a phone
        message: failing ? `connection refused (${i}) https://e2e.example.com/${'very-long-path-segment-'.repeat(4)}${i}` : 'port 8080 is listening',
        date: new Date(started.getTime() + 50).toISOString(),
        executionTimeMs: 10 * (i + 1),
      },
      {
        name: 'check-e2e-disk.json',
        title: 'check-e2e-disk',
        kind: 'anomaly',
        failed: false,
        message: 'free disk 40%',
        date: new Date(started.getTime() + 60).toISOString(),
        executionTimeMs: 3,
      },
      {
        // bidi controls: a right-to-left override would show this name as "check-e2e-cod.exe"
        name: 'check-e2e-\u202Eexe.doc',
        title: 'check-e2e-\u202Eexe',
        kind: 'anomaly',
        failed: false,
        message: 'user \u2067admin\u2069 ok',
        date: new Date(started.getTime() + 70).toISOString(),
        executionTimeMs: 2,
      },
    ],
  };
}

async function login(context: BrowserContext, token: string): Promise<Page> {
  const page = await context.newPage();
  // `/` without a session is the login form itself (200, no redirect)
  const res = await page.goto(`${master.url}/`);
  expect(res?.status()).toBe(200);
  expect(new URL(page.url()).pathname).toBe('/');
  await page.waitForSelector('body[data-page="login"] form[action="/login"] input[name="next"][value="/"]', { state: 'attached' });
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForLoadState('domcontentloaded');
  return page;
}

beforeAll(async () => {
  browser = await launchChromium();
  master = await startDemoMaster();
  // A deterministic tree next to the demo fleet: one red partition with a known history.
  expect((await master.admin('PUT', `/v1/software-releases/${SR}`, { url: 'https://example.invalid/e2e' })).status).toBeLessThan(300);
  const created = await master.admin('PUT', `/v1/computers/${COMPUTER}`, {});
  expect(created.status).toBe(201);
  computerToken = ComputerToken.parse(created.json).token;
  for (const id of [RED, GREEN]) {
    const put = await master.admin('PUT', `/v1/partitions/${id}`, { computerId: COMPUTER, instanceTreeId: TREE, softwareReleaseId: SR });
    expect(put.status).toBeLessThan(300);
  }
  for (let i = 0; i < MANY; i++) {
    const put = await master.admin('PUT', `/v1/partitions/${many(i)}`, { computerId: COMPUTER, instanceTreeId: MANY_TREE, softwareReleaseId: SR });
    expect(put.status).toBeLessThan(300);
  }
  expect((await computerCall('POST', `/v1/computers/${COMPUTER}/heartbeat`, { agentVersion: 'e2e' })).status).toBe(200);
  for (let i = 0; i < REPORTS; i++) {
    // kept, failed, kept, failed, failed (latest failed → red)
    const r = await computerCall('POST', `/v1/partitions/${RED}/reports`, report(i, i % 2 === 1 || i === REPORTS - 1));
    expect(r.status).toBe(202);
  }
});

afterAll(async () => {
  await browser?.close();
  await master?.stop();
});

describe('dashboard in Chromium', () => {
  test('a wrong token cannot log in, and nothing is served without the cookie', async () => {
    const context = await browser.newContext();
    const page = await login(context, 'not-the-admin-token');
    expect(new URL(page.url()).pathname).toBe('/login');
    await expect(page.locator('[role=alert]').textContent()).resolves.toContain('Wrong admin token');
    expect(await context.cookies()).toEqual([]);
    // `/` is the login form (a plain curl sees 200), every other page redirects to the
    // login page; none has fleet data in it
    const root = await fetch(`${master.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(200);
    const form = await root.text();
    expect(form).toContain('data-page="login"');
    for (const data of [RED, COMPUTER, 'demo-computer', 'data-computer']) expect(form).not.toContain(data);
    for (const path of ['/trees', `/trees/${TREE}`, `/partitions/${RED}`, '/bangs', '/crimes', `/computers/${COMPUTER}`]) {
      const res = await fetch(`${master.url}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location'), path).toMatch(/^\/login/);
      const body = await res.text();
      expect(body).not.toContain(RED);
      expect(body).not.toContain(COMPUTER);
    }
    // a forged cookie is refused too
    const forged = await fetch(`${master.url}/bangs`, {
      redirect: 'manual',
      headers: { cookie: `vigil_session=v1.9999999999.${'A'.repeat(43)}` },
    });
    expect(forged.status).toBe(303);
    const forgedRoot = await fetch(`${master.url}/`, { headers: { cookie: `vigil_session=v1.9999999999.${'A'.repeat(43)}` } });
    expect(await forgedRoot.text()).toContain('data-page="login"');
    // no API data without credentials either (the API is Bearer-only)
    for (const path of ['/v1/computers', '/v1/partitions', `/v1/partitions/${RED}/promises`, '/v1/bangs']) {
      const res = await fetch(`${master.url}${path}`);
      expect(res.status, path).toBe(401);
      const body = await res.text();
      expect(body).not.toContain(RED);
      expect(body).not.toContain(COMPUTER);
    }
    await context.close();
  });

  test('paging: page size, next and first through a tree larger than a page; the 30 s refresh keeps the page', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 700 } });
    await context.clock.install();
    const page = await login(context, master.adminToken);
    const rows = () => page.locator('#partitions tr[data-partition]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-partition') ?? ''));
    await page.goto(`${master.url}/partitions?tree=${MANY_TREE}`);
    expect(await rows()).toHaveLength(MANY); // 100 a page by default
    await page.click('[data-list="partitions"] a[data-per-page="50"]');
    await page.waitForURL(/limit=50/);
    const first = await rows();
    expect(first).toHaveLength(50);
    await page.click('a[data-goto="next"]');
    await page.waitForURL(/cursor=/);
    const second = await rows();
    expect(second).toHaveLength(MANY - 50);
    await expect(page.locator('[data-goto="last"]').count()).resolves.toBe(1);
    await expect(page.locator('.pager .rows').textContent()).resolves.toBe(`partitions 51–${MANY}`);
    expect([...first, ...second].sort()).toEqual(Array.from({ length: MANY }, (_, i) => many(i)));
    // the filter form keeps the tree and the page size
    await expect(page.locator('form.filters input[name="tree"]').inputValue()).resolves.toBe(MANY_TREE);
    await expect(page.locator('form.filters input[name="limit"]').inputValue()).resolves.toBe('50');
    // the refresh fetches this same page (cursor and filters in the URL)
    const url = page.url();
    await page.waitForSelector('body[data-client="ready"]');
    await context.clock.runFor(30_500);
    await page.waitForSelector('body[data-refreshed="1"]');
    expect(page.url()).toBe(url);
    expect(await rows()).toEqual(second);
    await page.click('a[data-goto="first"]');
    await page.waitForURL((u) => !u.search.includes('cursor='));
    expect(await rows()).toEqual(first);
    // the tree page pages its partitions the same way
    await page.goto(`${master.url}/trees/${MANY_TREE}?limit=50`);
    const tree = page.locator('#tree-partitions tr[data-partition]');
    await expect(tree.count()).resolves.toBe(50);
    await page.click('a[data-goto="next"]');
    await page.waitForURL(/cursor=/);
    await expect(tree.count()).resolves.toBe(MANY - 50);
    await context.close();
  });

  test('log in, fleet, red partition chart, bang → bang log and pending reprocess, logout', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 700 } });
    // no script error, CSP violation or failed asset load on any page
    const problems: string[] = [];
    context.on('page', (p) => {
      p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      p.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
      });
    });
    const page = await login(context, master.adminToken);
    expect(new URL(page.url()).pathname).toBe('/');

    // session cookie: HttpOnly, SameSite=Strict, never the raw token
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'vigil_session', httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookies[0]!.value).not.toContain(master.adminToken);
    // the API stays Bearer-only: the cookie gives no JSON data
    const apiWithCookie = await fetch(`${master.url}/v1/partitions`, { headers: { cookie: `vigil_session=${cookies[0]!.value}` } });
    expect(apiWithCookie.status).toBe(401);
    expect(await page.request.get(`${master.url}/v1/computers`).then((r) => r.status())).toBe(401);

    // fleet: every computer of the API (demo fleet + ours) with a colour and its text label
    const { computers } = await master.client.listComputers();
    expect(computers.map((c) => c.computerId).sort()).toEqual(['demo-computer', COMPUTER].sort());
    for (const c of computers) {
      const row = page.locator(`tr[data-computer="${c.computerId}"]`);
      await expect(row.getAttribute('data-colour')).resolves.toBe(c.colour);
      await expect(row.locator('.badge').textContent()).resolves.toBe({ green: 'OK', orange: 'LATE', red: 'FAIL' }[c.colour]);
    }
    await expect(page.locator(`tr[data-computer="${COMPUTER}"] td[data-label="Last contact"]`).textContent()).resolves.toMatch(
      /just now|\d+ s ago/,
    );
    await expect(page.locator(`tr[data-computer="${COMPUTER}"] [data-failing-of]`).getAttribute('href')).resolves.toBe(
      `/partitions?colour=red&computer=${COMPUTER}`,
    );
    // the summary bar shows GET /v1/summary as the API answers it (it may lag by a sweep)
    const summary = await master.client.summary();
    await expect(page.locator('[data-count="computers-green"] b').textContent()).resolves.toBe(String(summary.computers.green));
    await expect(page.locator('[data-count="partitions-red"] b').textContent()).resolves.toBe(String(summary.partitions.red));
    // the fleet page lists the first failing partitions (a bounded page) and links to all of them
    const failingRows = await page.locator('#failing tr[data-partition]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-colour')));
    expect(failingRows.length).toBeGreaterThan(0);
    expect(failingRows.length).toBeLessThanOrEqual(20);
    expect(new Set(failingRows)).toEqual(new Set(['red']));
    await expect(page.locator('a[data-all-failing]').getAttribute('href')).resolves.toBe('/partitions?colour=red');

    // fleet → partitions → filter red (a GET form) → the red partition
    await page.click('nav a[href="/partitions"]');
    await page.waitForURL(`${master.url}/partitions`);
    await page.selectOption('form.filters select[name="colour"]', 'red');
    await page.click('form.filters button[type="submit"]');
    await page.waitForURL(/\/partitions\?colour=red/);
    const colours = await page.locator('#partitions tr[data-partition]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-colour')));
    expect(colours.length).toBeGreaterThan(0);
    expect(new Set(colours)).toEqual(new Set(['red']));
    await page.click(`#partitions a[href="/partitions/${RED}"]`);
    await page.waitForURL(`${master.url}/partitions/${RED}`);
    await expect(page.locator('h1 .badge').textContent()).resolves.toBe('FAIL');
    const api = await master.client.partitionPromises(RED);
    const port = api.promises.find((p) => p.title === 'check-e2e-port');
    const history = port?.history ?? [];
    expect(history.length).toBeGreaterThan(1);
    const chart = page.locator('[data-promise="check-e2e-port"] svg.chart');
    await expect(chart.locator('circle[data-point]').count()).resolves.toBe(history.length);
    await expect(chart.locator('circle[data-status="failed"]').count()).resolves.toBe(history.filter((h) => h.failed).length);
    expect(await chart.boundingBox()).toMatchObject({ width: expect.any(Number) });
    expect((await chart.boundingBox())!.width).toBeGreaterThan(100);
    await expect(page.locator('[data-promise="check-e2e-port"] .msg').textContent()).resolves.toContain('connection refused');
    // agent-controlled text with bidi controls is shown with visible markers, never reordered
    const shown = (await page.locator('body').textContent()) ?? '';
    expect(shown).not.toMatch(/[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/);
    expect(shown).toContain('check-e2e-[U+202E]exe');
    expect(shown).toContain('user [U+2067]admin[U+2069] ok');

    // phone-sized: no horizontal scrolling on any view (the red partition's reason holds a
    // long unbreakable URL)
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 800 });
    for (const path of ['/', '/partitions?colour=red', '/trees', `/trees/${TREE}`, `/trees/${MANY_TREE}?limit=50`, `/partitions/${RED}`, '/bangs', '/crimes', `/computers/${COMPUTER}`]) {
      await phone.goto(`${master.url}${path}`);
      expect(await phone.evaluate(() => (globalThis as unknown as InPage).document.documentElement.scrollWidth), path).toBeLessThanOrEqual(390);
      if (path.startsWith('/partitions/')) {
        await expect(phone.locator('#colour-reason').textContent()).resolves.toContain('https://e2e.example.com/');
        // the charts use the phone's width
        expect((await phone.locator('svg.chart').first().boundingBox())!.width).toBeGreaterThan(250);
      }
    }

    // the tree page, scrolled down on a short viewport, with the page clock under control
    const treePage = await context.newPage();
    await treePage.setViewportSize({ width: 1000, height: 300 });
    await context.clock.install(); // for every page of the context
    await treePage.goto(`${master.url}/trees/${TREE}`);
    await treePage.waitForSelector('body[data-client="ready"]');
    for (const id of [RED, GREEN]) {
      await expect(treePage.locator(`tr[data-partition="${id}"] [data-reprocess]`).getAttribute('data-reprocess')).resolves.toBe('none');
    }
    await treePage.evaluate(() => (globalThis as unknown as InPage).scrollTo(0, 120));
    const scrolled = await treePage.evaluate(() => (globalThis as unknown as InPage).scrollY);
    expect(scrolled).toBeGreaterThan(0);
    // the bang log, open before the bang too
    const bangsPage = await context.newPage(); // the clock (installed above) is the context's
    await bangsPage.goto(`${master.url}/bangs?partition=${RED}`);
    await bangsPage.waitForSelector('body[data-client="ready"]');
    expect(await bangsPage.locator('tr[data-bang="e2e-bang-1"]').count()).toBe(0);

    // a bang from the API (as the computer would send it)
    const bang = await computerCall('POST', `/v1/partitions/${RED}/bang`, { bangId: 'e2e-bang-1', message: 'e2e: db down', source: 'manual' });
    expect(bang.status).toBe(202);
    expect(bang.json).toMatchObject({ fannedOutTo: 2 });
    await until(
      async () => {
        const tree = (await master.client.listPartitions({ instanceTreeId: TREE })).partitions;
        return tree.every((p) => p.reprocess);
      },
      15_000,
      'fan-out of the bang',
    );

    // nothing changes before the 30 s refresh, then the auto-refresh shows it in place
    await context.clock.runFor(29_000);
    await expect(treePage.locator(`tr[data-partition="${GREEN}"] [data-reprocess]`).getAttribute('data-reprocess')).resolves.toBe('none');
    expect(await bangsPage.locator('tr[data-bang="e2e-bang-1"]').count()).toBe(0);
    await context.clock.runFor(1_500);
    await treePage.waitForSelector('body[data-refreshed="1"]');
    await bangsPage.waitForSelector('body[data-refreshed="1"]');
    for (const id of [RED, GREEN]) {
      await expect(treePage.locator(`tr[data-partition="${id}"] [data-reprocess]`).getAttribute('data-reprocess')).resolves.toBe('pending');
    }
    expect(await treePage.evaluate(() => (globalThis as unknown as InPage).scrollY)).toBe(scrolled);
    await expect(treePage.locator('#main').textContent()).resolves.toContain('e2e: db down');

    // the bang log after its refresh: time, partition, source, message, fanned-out count,
    // accepted by quota, and the partition's quota use today
    const row = bangsPage.locator('tr[data-bang="e2e-bang-1"]');
    await expect(row.locator('td[data-label="Partition"]').textContent()).resolves.toBe(RED);
    await expect(row.locator('td[data-label="Source"]').textContent()).resolves.toBe('manual');
    await expect(row.locator('td[data-label="Message"]').textContent()).resolves.toBe('e2e: db down');
    await expect(row.locator('td[data-label="Time"] time').getAttribute('datetime')).resolves.toMatch(/^\d{4}-\d\d-\d\dT/);
    await expect(row.locator('td[data-label="Fanned out to"]').textContent()).resolves.toBe('2');
    await expect(row.getAttribute('data-accepted')).resolves.toBe('true');
    await expect(row.locator('td[data-label="Quota"]').textContent()).resolves.toBe('accepted');
    await expect(bangsPage.locator(`[data-quota-partition="${RED}"]`).getAttribute('data-used')).resolves.toBe('1');
    expect(new URL(bangsPage.url()).search).toBe(`?partition=${RED}`); // the refresh kept the filter

    // phone-sized, with the bang in the log: no horizontal scrolling
    await phone.goto(`${master.url}/bangs`);
    await expect(phone.locator('tr[data-bang="e2e-bang-1"]').count()).resolves.toBe(1);
    expect(await phone.evaluate(() => (globalThis as unknown as InPage).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    expect(problems).toEqual([]);

    // the fleet page left open in another tab while we log out
    await bangsPage.close();
    await treePage.goto(`${master.url}/`);
    await treePage.waitForSelector('body[data-client="ready"]');
    await expect(treePage.locator(`tr[data-computer="${COMPUTER}"]`).count()).resolves.toBe(1);

    // log out: the cookie is gone and pages redirect to the login again
    await page.click('header form button');
    await page.waitForURL(`${master.url}/login`);
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${master.url}/bangs`);
    expect(new URL(page.url()).pathname).toBe('/login');
    // a page left open whose session is gone goes to the login page at its next refresh
    // (the fleet page `/` answers the login form itself then)
    await context.clock.runFor(30_500);
    await treePage.waitForURL(`${master.url}/login?next=%2F`);
    await expect(treePage.locator('body').getAttribute('data-page')).resolves.toBe('login');
    await context.close();
  });
});
