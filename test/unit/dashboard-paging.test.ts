// The dashboard's paging: the query-string model (paging.ts), and the whole dashboard over
// an in-memory API that implements the paging contract (test/helpers/fake-api.ts): a fleet
// larger than one page is reached page by page, each item exactly once, with filters and
// search; every list is read with a limit; every page stays under 1 MiB with the longest
// texts the master keeps, at the largest page size offered.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { CHANNEL_URL_MAX, EVENT_TYPES, RecordedEvent, SILENCE_REASON_MAX } from '../../protocol/events.ts';
import { createDashboard } from '../../functions/dashboard/index.tsx';
import { clip, listHref, listParams, pagerLinks, searchId, TABLE_SIZES } from '../../functions/dashboard/paging.ts';
import { createSessions } from '../../functions/dashboard/sessions.ts';
import { MESSAGE_MAX, PAGE_LIMIT_MAX } from '../../protocol/index.ts';
import { BANG_REASON_MAX, REPORT_ERROR_MAX } from '../../protocol/limits.ts';
import type { LastReportSummary, PromiseHistory, PromiseResult } from '../../protocol/index.ts';
import { type FakeFleet, fakeComputer, fakeFleet, fakePartition } from '../helpers/fake-api.ts';
import { crawl, dashboardOver, FAKE_ADMIN, FAKE_NOW, ids, nextHref } from '../helpers/fake-dashboard.ts';

const NOW = FAKE_NOW;
const ADMIN = FAKE_ADMIN;
const MiB = 1024 * 1024;


describe('paging.ts', () => {
  const sizes = [100, 50, 500] as const;

  test('listParams: page sizes offered only, colours offered only, cursor and page kept, ids trimmed', () => {
    expect(listParams({}, sizes)).toEqual({ limit: 100, from: 1 });
    expect(listParams({ limit: '500' }, sizes).limit).toBe(500);
    for (const bad of ['7', '0', '-1', '1e3', 'abc', '5000', '']) expect(listParams({ limit: bad }, sizes).limit, bad).toBe(100);
    expect(listParams({ colour: 'orange' }, sizes, ['green', 'red']).colour).toBeUndefined();
    expect(listParams({ colour: 'red' }, sizes, ['green', 'red']).colour).toBe('red');
    expect(listParams({ colour: 'purple' }, sizes).colour).toBeUndefined();
    expect(listParams({ cursor: 'abc', from: '301' }, sizes)).toMatchObject({ cursor: 'abc', from: 301 });
    for (const from of [undefined, '1', '0', 'x']) expect(listParams({ cursor: 'abc', from }, sizes).from).toBeUndefined(); // a cursor is never the first page
    expect(listParams({ from: '301' }, sizes).from).toBe(1); // nor is a page without a cursor
    expect(listParams({ cursor: 'x'.repeat(2049) }, sizes).cursor).toBeUndefined();
    expect(listParams({ tree: '  t1 ', computer: '', partition: 'p' }, sizes)).toMatchObject({ tree: 't1', partition: 'p' });
    expect(listParams({ computer: ' ' }, sizes).computer).toBeUndefined();
  });

  test('listHref leaves defaults out; pagerLinks: first, next, sizes, rows shown', () => {
    expect(listHref('/', { limit: 100, from: 1 }, sizes)).toBe('/');
    expect(listHref('/partitions', { limit: 50, from: 101, cursor: 'c/+=', colour: 'red', tree: 't:1' }, sizes)).toBe(
      '/partitions?colour=red&tree=t%3A1&limit=50&cursor=c%2F%2B%3D&from=101',
    );
    const first = pagerLinks('/', { limit: 50, from: 1, colour: 'red' }, sizes, 50, 'n1');
    expect(first).toMatchObject({ first: null, next: '/?colour=red&limit=50&cursor=n1&from=51', from: 1, to: 50 });
    expect(first.sizes).toEqual([
      { limit: 50, href: '/?colour=red&limit=50', current: true },
      { limit: 100, href: '/?colour=red', current: false },
      { limit: 500, href: '/?colour=red&limit=500', current: false },
    ]);
    const last = pagerLinks('/', { limit: 50, from: 101, cursor: 'n2', colour: 'red' }, sizes, 7, null);
    expect(last).toMatchObject({ first: '/?colour=red&limit=50', next: null, from: 101, to: 107 });
    expect(pagerLinks('/', { limit: 100, from: 1 }, sizes, 0, null)).not.toHaveProperty('from');
    // an API page cut short (under 1 MiB) moves the numbering by the rows shown, not by the limit
    expect(pagerLinks('/', { limit: 100, from: 101, cursor: 'c' }, sizes, 37, 'd').next).toBe('/?cursor=d&from=138');
    // a cursor without a row number: the rows are counted, not numbered
    expect(pagerLinks('/', { limit: 100, cursor: 'c' }, sizes, 37, 'd')).toMatchObject({ next: '/?cursor=d', shown: 37 });
  });

  test('searchId accepts what the API takes as an id; clip keeps the end', () => {
    expect(searchId(' c-1 ')).toBe('c-1');
    for (const bad of [undefined, '', ' ', 'a b', '-x', 'x'.repeat(129), 'é']) expect(searchId(bad)).toBeNull();
    expect(clip('abcdef', 3)).toBe('…def');
    expect(clip('abc', 3)).toBe('abc');
  });

  test('every table offers page sizes within the API maximum', () => {
    for (const s of Object.values(TABLE_SIZES)) for (const n of s) expect(n).toBeLessThanOrEqual(PAGE_LIMIT_MAX);
  });
});

// ------------------------------------------------------------------------------------------ the dashboard over a paged API

const exactlyOnce = (pages: string[][], expected: string[]) => {
  const seen = pages.flat();
  expect(new Set(seen).size).toBe(seen.length);
  expect([...seen].sort()).toEqual([...expected].sort());
};

describe('dashboard over a paged API (fleet larger than a page)', () => {
  test('fleet page: the summary, `limit` computers a page, next reaches every computer once; colour filter; failing partitions', async () => {
    const fleet = fakeFleet({ computers: 234, perComputer: 3 });
    const d = await dashboardOver(fleet);
    const first = await d.get('/');
    expect(first.status).toBe(200);
    expect(ids(first.html, 'data-computer')).toHaveLength(100);
    expect(first.html).toMatch(/data-count="computers-red"[^>]*>[\s\S]*?<b>22<\/b>/);
    expect(first.html).toMatch(/data-count="partitions-red" href="\/partitions\?colour=red"[\s\S]*?<b>101<\/b>/);
    expect(first.html).toContain(`data-as-of="${fleet.asOf}"`);
    // the failing partitions: one bounded page of red ones, and a link to all of them
    expect(ids(first.html.slice(first.html.indexOf('id="failing"')), 'data-partition')).toHaveLength(20);
    expect(first.html).toContain('href="/partitions?colour=red" data-all-failing');
    const pages = await crawl(d, '/', 'data-computer', 100);
    expect(pages.map((p) => p.length)).toEqual([100, 100, 34]);
    exactlyOnce(pages, fleet.computers.map((c) => c.computerId));
    const red = await crawl(d, '/?colour=red&limit=50', 'data-computer', 50);
    exactlyOnce(red, fleet.computers.filter((c) => c.colour === 'red').map((c) => c.computerId));
    // the last page says so, and links back to the first
    const last = await d.get(nextHref((await d.get('/?limit=200')).html)!);
    expect(ids(last.html, 'data-computer')).toHaveLength(34);
    expect(last.html).toContain('data-goto="last"');
    expect((await d.get(nextHref(first.html)!)).html).toMatch(/href="\/" rel="first"/);
  });

  test('partitions page: filters colour / tree / computer combine with paging; /trees is the same list', async () => {
    const fleet = fakeFleet({ computers: 60, perComputer: 10 });
    const d = await dashboardOver(fleet);
    exactlyOnce(await crawl(d, '/partitions', 'data-partition', 100), fleet.partitions.map((p) => p.partitionId));
    exactlyOnce(await crawl(d, '/trees?limit=200', 'data-partition', 200), fleet.partitions.map((p) => p.partitionId));
    const red = fleet.partitions.filter((p) => p.colour === 'red');
    exactlyOnce(await crawl(d, '/partitions?colour=red&limit=50', 'data-partition', 50), red.map((p) => p.partitionId));
    const tree = fleet.partitions.filter((p) => p.instanceTreeId === 't00003');
    exactlyOnce(await crawl(d, '/partitions?tree=t00003', 'data-partition', 100), tree.map((p) => p.partitionId));
    const both = fleet.partitions.filter((p) => p.computerId === 'c00007' && p.colour === 'red');
    expect(both.length).toBeGreaterThan(0);
    exactlyOnce(await crawl(d, '/partitions?computer=c00007&colour=red', 'data-partition', 100), both.map((p) => p.partitionId));
    // the filter form is a GET form holding the filters and the page size, and works without JS
    const page = await d.get('/partitions?colour=red&tree=t00003&limit=50');
    expect(page.html).toMatch(/<form class="filters" method="get" action="\/partitions"/);
    expect(page.html).toMatch(/<option value="red" selected="">/);
    expect(page.html).toContain('name="tree" value="t00003"');
    expect(page.html).toContain('name="limit" value="50"');
    expect(page.html).toContain('href="/partitions">clear filters</a>');
  });

  test('computer, tree, crimes and bang pages page their lists', async () => {
    const fleet = fakeFleet({ computers: 3, perComputer: 250, treeSize: 130, bangs: 333 });
    const d = await dashboardOver(fleet);
    const mine = fleet.partitions.filter((p) => p.computerId === 'c00001').map((p) => p.partitionId);
    exactlyOnce(await crawl(d, '/computers/c00001', 'data-partition', 100), mine);
    const tree = fleet.partitions.filter((p) => p.instanceTreeId === 't00002').map((p) => p.partitionId);
    expect(tree).toHaveLength(130);
    exactlyOnce(await crawl(d, '/trees/t00002?limit=50', 'data-partition', 50), tree);
    const crimes = fleet.partitions.filter((p) => p.crimes.length).map((p) => p.partitionId);
    exactlyOnce(await crawl(d, '/crimes', 'data-crime-partition', 100), crimes);
    exactlyOnce(await crawl(d, '/bangs', 'data-bang', 50), fleet.bangs.map((b) => b.bangId));
    const oneBangs = fleet.bangs.filter((b) => b.partitionId === 'p000000').map((b) => b.bangId);
    const filtered = await crawl(d, '/bangs?partition=p000000', 'data-bang', 50);
    exactlyOnce(filtered, oneBangs);
    // filtered by partition, the bang log shows its quota use (one partition read)
    expect((await d.get('/bangs?partition=p000000')).html).toMatch(/data-quota-partition="p000000" data-used="1"/);
    // the tree's colour and reason are the whole tree's, whatever the page
    const t = await d.get('/trees/t00000?limit=50');
    expect(t.html).toMatch(/Instance tree t00000 <span class="badge red"/);
    expect(t.html).toContain('of 130 partitions red');
  });

  test("partition page: every promise's latest result, older reports by paging, bangs and quota", async () => {
    const fleet = fakeFleet({ computers: 1, perComputer: 2, bangs: 3 });
    const reports: LastReportSummary[] = Array.from({ length: 120 }, (_, i) => report(`r${String(119 - i).padStart(3, '0')}`, 119 - i));
    const names = ['check-a', 'check-b'];
    const promises = names.map((n) => history(n, reports.map((r) => r.reportId), n === 'check-b'));
    fleet.promises.set('p000000', { promises, reports });
    const d = await dashboardOver(fleet);
    const first = await d.get('/partitions/p000000');
    expect(first.html.match(/data-promise="check-a"/g)).toHaveLength(1);
    expect(first.html.match(/<circle data-point/g)).toHaveLength(2 * 50); // the history within the page's 50 reports
    expect(first.html.indexOf('data-promise="check-b"')).toBeLessThan(first.html.indexOf('data-promise="check-a"')); // failing first
    expect(first.html).toMatch(/data-quota-used="2" data-quota="24"/); // bangs b000000 and b000002
    const pages = await crawl(d, '/partitions/p000000', 'data-report', 50, 'reports');
    expect(pages.map((p) => p.length)).toEqual([50, 50, 20]);
    expect(pages.flat()).toEqual(reports.map((r) => r.reportId)); // newest first, each once
    const older = await d.get(nextHref(first.html, 'reports')!);
    expect(older.html).toContain('(an older page of reports)');
    expect(older.html.match(/data-promise="check-a"/g)).toHaveLength(1); // the latest result is on every page
  });

  test('search: an exact id goes to its page, otherwise the list says none has it', async () => {
    const fleet = fakeFleet({ computers: 5, perComputer: 2 });
    const d = await dashboardOver(fleet);
    expect(await d.get('/?q=c00003')).toMatchObject({ status: 303, location: '/computers/c00003' });
    expect(await d.get('/?q=+p000004+')).toMatchObject({ status: 303, location: '/partitions/p000004' });
    expect(await d.get('/partitions?q=t00000')).toMatchObject({ status: 303, location: '/trees/t00000' });
    expect(await d.get('/partitions?q=c00001')).toMatchObject({ status: 303, location: '/computers/c00001' });
    const none = await d.get('/partitions?q=nope');
    expect(none.status).toBe(200);
    expect(none.html).toContain('No partition, tree, computer has the id &quot;nope&quot;');
    expect(none.html).toContain('value="nope"');
    const bad = await d.get('/?q=a%20b');
    expect(bad.html).toContain('cannot be an id');
    expect(ids(bad.html, 'data-computer')).toHaveLength(5);
  });

  test('no page reads a list without a limit, or more than the page size asked', async () => {
    const fleet = fakeFleet({ computers: 30, perComputer: 4, bangs: 10 });
    fleet.promises.set('p000001', { promises: [], reports: [report('r1', 1)] });
    const d = await dashboardOver(fleet);
    for (const path of [
      '/',
      '/?colour=red&limit=200',
      '/partitions',
      '/partitions?limit=200&colour=green&tree=t00001&computer=c00002',
      '/trees',
      '/computers/c00002',
      '/trees/t00001',
      '/partitions/p000001',
      '/partitions/p000001?limit=100',
      '/bangs',
      '/bangs?limit=200&partition=p000001',
      '/crimes',
      '/?q=p000003',
      '/events',
      '/events?limit=200&partition=p000001',
      '/silences?limit=200',
      '/channels?limit=100',
    ]) {
      d.api.requests.length = 0;
      expect((await d.get(path)).status, path).toBeLessThan(400);
      expect(d.api.requests.length, path).toBeGreaterThan(0);
      for (const req of d.api.requests) {
        const url = new URL(req, 'http://x');
        const isList = /^\/v1\/(computers|partitions|bangs|software-releases|events|silences|channels)$/.test(url.pathname) || /^\/v1\/instance-trees\/[^/]+$/.test(url.pathname) || /\/promises$/.test(url.pathname);
        if (!isList) continue;
        const limit = Number(url.searchParams.get('limit'));
        expect(limit, `${path} → ${req}`).toBeGreaterThan(0);
        expect(limit, `${path} → ${req}`).toBeLessThanOrEqual(500);
      }
    }
  });

  test('a login that expired comes back to the same page and filters', async () => {
    const d = await dashboardOver(fakeFleet({ computers: 1, perComputer: 1 }));
    const dash = createDashboard({ adminToken: () => ADMIN, now: () => NOW, api: d.api.fetch, sessions: createSessions({ store: { createSession: async () => {}, getSession: async () => null, deleteSession: async () => {} }, now: () => NOW }) });
    const res = await dash.request('/partitions?colour=red&tree=t1&limit=50');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/partitions?colour=red&tree=t1&limit=50')}`);
  });

  test('a page never shows more rows than asked, even from an API that ignores the limit', async () => {
    const fleet = fakeFleet({ computers: 300, perComputer: 1 });
    const d = await dashboardOver(fleet, (f) => (input, init) => f(input.replace(/([?&])limit=\d+/, '$1limit=1000'), init));
    expect(ids((await d.get('/')).html, 'data-computer')).toHaveLength(100);
    expect(d.api.requests).toContain('/v1/computers?limit=1000');
  });
});

// ------------------------------------------------------------------------------------------ page sizes

function report(id: string, minutes: number, error: string | null = null): LastReportSummary {
  const at = new Date(NOW.getTime() - (200 - minutes) * 60_000).toISOString();
  return { reportId: id, kind: 'anomaly', startedAt: at, durationMs: 1200, ok: !error, error, receivedAt: at, promiseCount: 2, failed: [] };
}

function history(name: string, reportIds: string[], failed: boolean, message = 'ok', latestMessage = message): PromiseHistory {
  const results: PromiseResult[] = reportIds.map((reportId, i) => ({
    name: `${name}.json`,
    title: name,
    kind: 'anomaly',
    failed,
    message: i === 0 ? latestMessage : message,
    date: new Date(NOW.getTime() - i * 60_000).toISOString(),
    executionTimeMs: 10 + i,
    reportId,
    receivedAt: NOW.toISOString(),
  }));
  return { name: `${name}.json`, title: name, latest: results[0]!, history: results };
}

/** A long message of `n` characters as agents write them: URLs, quotes and a few characters HTML escaping makes longer. */
const longText = (n: number) =>
  'GET https://service.example.com/api/v1/health?probe=1&verbose=true failed: HTTP 503 <Service Unavailable> "upstream connect error" '
    .repeat(Math.ceil(n / 120))
    .slice(0, n);
const longId = (prefix: string, i: number) => `${prefix}${i}:${'@'.repeat(120)}`.slice(0, 128);

/** 1,000 events, silences and channels with the longest ids and texts the master keeps. */
function longestNotifications(fleet: FakeFleet): void {
  const id = (prefix: string, i: number) => longId(prefix, i);
  fleet.events = Array.from({ length: 1000 }, (_, i) =>
    RecordedEvent.parse({
      event: {
        eventId: `ev_${createHash('sha256').update(String(i)).digest('base64url')}`,
        type: 'bang.rejected',
        at: NOW.toISOString(),
        computerId: id('c', i),
        partitionId: id('p', i),
        instanceTreeId: id('t', i),
        link: `https://vigil.example/partitions/${id('p', i)}`,
        data: { bangId: id('b', i), source: 'watchdog', message: longText(MESSAGE_MAX), quotaPerDay: 24, retryAfter: NOW.toISOString() },
        silenced: { silenceId: id('s', i), reason: longText(SILENCE_REASON_MAX) },
      },
      recordedAt: NOW.toISOString(),
      sendable: false,
      deliveries: [],
    }),
  );
  fleet.silences = Array.from({ length: 1000 }, (_, i) => ({
    silenceId: id('s', i),
    match: { instanceTreeId: id('t', i) },
    startsAt: NOW.toISOString(),
    endsAt: NOW.toISOString(),
    reason: longText(SILENCE_REASON_MAX),
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    endedAt: null,
    active: false,
  }));
  fleet.channels = Array.from({ length: 1000 }, (_, i) => ({
    channelId: id('ch', i),
    kind: 'webhook' as const,
    url: `https://hooks.example/${longText(CHANNEL_URL_MAX - 30)}`,
    hasSecret: true,
    events: [...EVENT_TYPES],
    instanceTreeId: id('t', i),
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    lastDelivery: { at: NOW.toISOString(), eventId: `ev_${'a'.repeat(43)}`, ok: false, error: longText(2000) },
    backlog: 1_000_000,
    dead: { count: 1000, last: { at: NOW.toISOString(), eventId: `ev_${'a'.repeat(43)}`, error: longText(2000) } },
  }));
}

describe('page sizes stay under 1 MiB at the largest page size, with the longest texts kept', () => {
  test('every list page, and a partition with 300 promises of 100 results each', async () => {
    const fleet: FakeFleet = { computers: [], partitions: [], bangs: [], promises: new Map(), asOf: NOW.toISOString() };
    for (let i = 0; i < 1000; i++) {
      fleet.computers.push(fakeComputer(longId('c', i), 'red', { agentVersion: longText(200), colourReason: 'no contact for 12 d 23 h' }));
      fleet.partitions.push(
        fakePartition(longId('p', i), longId('c', 0), longId('t', 0), 'red', {
          softwareReleaseId: longId('s', 0),
          colourReason: `promise ${longText(255)} failed: ${longText(300)} (+3 more)`,
          reprocess: { partitionId: longId('p', i), requestedAt: NOW.toISOString(), reason: longText(BANG_REASON_MAX) },
          lastBangAt: NOW.toISOString(),
          lastReport: report('r', 1, longText(REPORT_ERROR_MAX)),
          crimes: [
            { code: 'promise-never-passes', message: `promise ${longText(255)} never passed (failed in 3 reports)` },
            { code: 'slow-instantiation', message: 'instantiation took 75 s (over 60 s)' },
            { code: 'all-promises-every-minute', message: 'every promise runs at a 1-minute periodicity' },
            { code: 'instantiation-never-sleeps', message: '3 instantiations in a row each started less than 30 s after the previous one' },
          ],
        }),
      );
      fleet.bangs.push({
        bangId: longId('b', i),
        partitionId: longId('p', 0),
        computerId: longId('c', 0),
        instanceTreeId: longId('t', 0),
        message: longText(MESSAGE_MAX),
        source: 'watchdog',
        createdAt: NOW.toISOString(),
        fannedOutTo: 1000,
        fanOut: 'rejected',
        fanOutCompletedAt: null,
        accepted: false,
      });
    }
    longestNotifications(fleet);
    const reports = Array.from({ length: 100 }, (_, i) => report(`r${i}`, i, longText(REPORT_ERROR_MAX)));
    // 300 promises (20 charted, 200 listed, the rest counted) with 100 results each in the page
    const historyMessage = longText(300);
    const promises = Array.from({ length: 300 }, (_, i) =>
      history(`${longText(200)}-${i}`, reports.map((r) => r.reportId), i % 2 === 0, historyMessage, longText(MESSAGE_MAX)),
    );
    fleet.promises.set(longId('p', 0), { promises, reports });
    const d = await dashboardOver(fleet);
    const enc = encodeURIComponent;
    const max = (sizes: readonly number[]) => Math.max(...sizes);
    const sizes: Record<string, number> = {};
    for (const path of [
      `/?limit=${max(TABLE_SIZES.computers)}`,
      `/partitions?limit=${max(TABLE_SIZES.partitions)}`,
      `/computers/${enc(longId('c', 0))}?limit=${max(TABLE_SIZES.partitions)}`,
      `/trees/${enc(longId('t', 0))}?limit=${max(TABLE_SIZES.partitions)}`,
      `/crimes?limit=${max(TABLE_SIZES.crimes)}`,
      `/bangs?limit=${max(TABLE_SIZES.bangs)}`,
      `/partitions/${enc(longId('p', 0))}?limit=${max(TABLE_SIZES.reports)}`,
      `/events?limit=${max(TABLE_SIZES.events)}`,
      `/silences?limit=${max(TABLE_SIZES.silences)}`,
      `/channels?limit=${max(TABLE_SIZES.channels)}`,
    ]) {
      const r = await d.get(path);
      expect(r.status, `${path}: ${r.html.match(/role="alert">([^<]*)/)?.[1]}`).toBe(200);
      if (process.env['DASH_DUMP']) (await import('node:fs')).writeFileSync(`/tmp/dash-${Object.keys(sizes).length}.html`, r.html);
      const [, first = '', second] = path.split('?')[0]!.split('/');
      sizes[`${first || 'fleet'}${second ? '/:id' : ''}`] = r.bytes;
    }
    console.log('worst-case page sizes (KiB):', JSON.stringify(Object.fromEntries(Object.entries(sizes).map(([k, v]) => [k, Math.round(v / 1024)]))));
    for (const [page, bytes] of Object.entries(sizes)) expect(bytes, page).toBeLessThanOrEqual(MiB);
  });
});
