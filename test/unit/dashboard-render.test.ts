// Session signing, the client script, the data adapters and the server-rendered views,
// without a browser (the browser e2e is test/e2e/dashboard-browser.test.ts).
import { Hono } from 'hono';
import { describe, expect, test } from 'vitest';
import { HistoryChart } from '../../functions/dashboard/chart.tsx';
import { CLIENT_JS } from '../../functions/dashboard/client.ts';
import { bangView, partitionView, promisesView } from '../../functions/dashboard/data.ts';
import { neutraliseBidi } from '../../functions/dashboard/display.ts';
import { safeNext } from '../../functions/dashboard/index.tsx';
import { LoginPage } from '../../functions/dashboard/layout.tsx';
import { FleetPage, PartitionPage } from '../../functions/dashboard/pages.tsx';
import { createSessions, isCrossSite } from '../../functions/dashboard/sessions.ts';
import { constantTimeEqual } from '../../functions/auth.ts';
import type { SessionRecord, SessionStore } from '../../functions/store/types.ts';
import type { Bang, Partition, PromiseHistory } from '../../protocol/index.ts';

const NOW = new Date('2025-11-25T12:00:00.000Z');

describe('session cookie', () => {
  const token = 'admin-token-123';
  // the session logic over a Map (the DynamoDB store itself: test/integration/master-robustness.test.ts)
  function memoryStore(): SessionStore & { items: Map<string, SessionRecord> } {
    const items = new Map<string, SessionRecord>();
    return {
      items,
      createSession: async (s) => void items.set(s.sessionKey, s),
      getSession: async (k) => items.get(k) ?? null,
      deleteSession: async (k) => void items.delete(k),
    };
  }
  let now = NOW;
  const clock = () => now;

  test('a random id in the cookie; the store holds neither the id nor the token; expires', async () => {
    const store = memoryStore();
    const sessions = createSessions({ store, now: clock, ttlSeconds: 60 });
    const v = await sessions.create(token);
    expect(v).toMatch(/^v2\.[A-Za-z0-9_-]{43}$/);
    expect(v).not.toContain(token);
    const [item] = [...store.items.values()];
    expect(JSON.stringify(item)).not.toContain(v.slice(3));
    expect(JSON.stringify(item)).not.toContain(token);
    expect(await sessions.verify(token, v)).toBe(true);
    expect(await sessions.create(token)).not.toBe(v);
    now = new Date(NOW.getTime() + 59_000);
    expect(await sessions.verify(token, v)).toBe(true);
    now = new Date(NOW.getTime() + 60_000);
    expect(await sessions.verify(token, v)).toBe(false);
    now = NOW;
  });

  test('another admin token, a revoked session, tampering and garbage are refused', async () => {
    const sessions = createSessions({ store: memoryStore(), now: clock });
    const v = await sessions.create(token);
    expect(await sessions.verify('other-token', v)).toBe(false);
    expect(await sessions.verify('', v)).toBe(false);
    expect(await sessions.verify(token, `${v.slice(0, -1)}${v.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    for (const bad of [undefined, '', 'x'.repeat(5000), `v1.9999999999.${'A'.repeat(43)}`, v.slice(3)]) expect(await sessions.verify(token, bad)).toBe(false);
    await sessions.revoke(v);
    expect(await sessions.verify(token, v)).toBe(false);
    await sessions.revoke('garbage');
  });

  test('forms posted from another site are told apart from same-origin posts and non-browser clients', async () => {
    const app = new Hono().post('/f', (c) => c.text(isCrossSite(c) ? 'cross' : 'same'));
    const post = async (headers: Record<string, string>) => (await app.request('http://vigil.example:8787/f', { method: 'POST', headers })).text();
    expect(await post({ host: 'vigil.example:8787', origin: 'http://vigil.example:8787' })).toBe('same');
    expect(await post({ host: 'vigil.example:8787', origin: 'https://vigil.example:8787' })).toBe('same'); // TLS-terminating proxy
    expect(await post({ host: 'vigil.example:8787', origin: 'https://evil.example' })).toBe('cross');
    expect(await post({ host: 'vigil.example:8787', origin: 'null' })).toBe('cross');
    expect(await post({ host: 'vigil.example:8787', 'sec-fetch-site': 'cross-site' })).toBe('cross');
    expect(await post({ host: 'vigil.example:8787', 'sec-fetch-site': 'same-site' })).toBe('cross');
    expect(await post({ host: 'vigil.example:8787', 'sec-fetch-site': 'same-origin', origin: 'http://vigil.example:8787' })).toBe('same');
    // Sec-Fetch-Site decides when sent (a browser sends Origin: null under some referrer policies)
    expect(await post({ host: 'vigil.example:8787', 'sec-fetch-site': 'same-origin', origin: 'null' })).toBe('same');
    expect(await post({ host: 'vigil.example:8787', 'sec-fetch-site': 'cross-site', origin: 'http://vigil.example:8787' })).toBe('cross');
    expect(await post({ host: 'vigil.example:8787' })).toBe('same'); // curl
  });

  test('constantTimeEqual', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});

test('safeNext allows local paths only', () => {
  expect(safeNext('/partitions/p1')).toBe('/partitions/p1');
  expect(safeNext('/trees?x=1')).toBe('/trees?x=1');
  for (const bad of ['//evil.example', '/\\evil', 'https://evil.example/', 'javascript:alert(1)', '/login', 42, undefined]) {
    expect(safeNext(bad)).toBe('/');
  }
});

test('client script is self-contained valid JavaScript', () => {
  // Compiles (throws on a syntax error); it is not run here (it needs a DOM).
  expect(() => new Function(CLIENT_JS)).not.toThrow();
  expect(CLIENT_JS).toContain('vigilRefresh');
  // an expired session: a redirect to /login, a 401, or the login form served at `/`
  expect(CLIENT_JS).toContain('getAttribute("data-page") === "login"');
  expect(CLIENT_JS).not.toMatch(/\bimport\b|\brequire\(/);
});

function partition(over: Partial<Partition> = {}): Partition {
  return {
    partitionId: 'p1',
    computerId: 'c1',
    instanceTreeId: 't1',
    softwareReleaseId: 'sr1',
    periodicitySeconds: null,
    colour: 'red',
    colourReason: 'promise check-http failed: 502',
    colourSince: '2025-11-25T11:00:00.000Z',
    lastReport: {
      reportId: 'r1',
      kind: 'instantiation',
      startedAt: '2025-11-25T11:50:00.000Z',
      durationMs: 1500,
      ok: false,
      error: null,
      receivedAt: '2025-11-25T11:57:00.000Z',
      promiseCount: 2,
      failed: [{ name: 'check-http.json', message: '502' }],
    },
    reprocess: { partitionId: 'p1', requestedAt: '2025-11-25T11:58:00.000Z', reason: 'bang b1 from p2' },
    lastBangAt: '2025-11-25T11:58:00.000Z',
    crimes: [{ code: 'promise-never-passes', message: 'check-http never passed' }],
    flapping: false,
    createdAt: '2025-11-25T10:00:00.000Z',
    updatedAt: '2025-11-25T11:58:00.000Z',
    ...over,
  };
}

function result(date: string, failed: boolean, ms: number) {
  return {
    name: 'check-http.json',
    title: 'check-http',
    kind: 'anomaly' as const,
    failed,
    message: failed ? 'HTTP 502 from http://x' : 'ok',
    date,
    executionTimeMs: ms,
    reportId: `r-${date}`,
    receivedAt: date,
  };
}

test('adapters map the protocol shapes', () => {
  const p = partitionView(partition());
  expect(p).toMatchObject({
    partitionId: 'p1',
    colour: 'red',
    lastReportAt: '2025-11-25T11:57:00.000Z',
    lastReportOk: false,
    reprocess: { requestedAt: '2025-11-25T11:58:00.000Z', reason: 'bang b1 from p2' },
    crimes: [{ rule: 'promise-never-passes', message: 'check-http never passed' }],
  });
  expect(partitionView(partition({ reprocess: null, lastReport: null, lastBangAt: null }))).toMatchObject({
    reprocess: undefined,
    lastReportAt: undefined,
    lastBangAt: undefined,
  });
  const bang: Bang = {
    bangId: 'b1',
    partitionId: 'p2',
    computerId: 'c1',
    instanceTreeId: 't1',
    message: 'down',
    source: 'manual',
    createdAt: '2025-11-25T11:58:00.000Z',
    fannedOutTo: 3,
    fanOut: 'done',
    fanOutCompletedAt: null,
    accepted: true,
  };
  expect(bangView(bang)).toMatchObject({ accepted: true, fannedOutTo: 3, at: bang.createdAt });
  expect(bangView({ ...bang, accepted: false, fanOut: 'rejected' })).toMatchObject({ accepted: false, fannedOutTo: 0 });
  // one partition (GET /v1/partitions/{id}) carries the master's quota counter of today
  expect(partitionView({ ...partition(), bangsToday: 1, bangQuotaPerDay: 24 })).toMatchObject({ bangsToday: 1, bangQuotaPerDay: 24 });
  expect(p).toMatchObject({ bangsToday: undefined, bangQuotaPerDay: undefined });
});

test('partition page: one chart point per history entry, colour always with a label', async () => {
  const history: PromiseHistory[] = [
    {
      name: 'check-http.json',
      title: 'check-http',
      latest: result('2025-11-25T11:57:00.000Z', true, 120),
      history: [
        result('2025-11-25T11:57:00.000Z', true, 120),
        result('2025-11-25T11:55:00.000Z', false, 80),
        result('2025-11-25T11:53:00.000Z', false, 60),
        result('2025-11-25T11:51:00.000Z', true, 2000),
      ],
    },
    {
      name: 'check-disk.json',
      title: 'check-disk',
      latest: { ...result('2025-11-25T11:57:00.000Z', false, 5), name: 'check-disk.json', title: 'check-disk' },
      history: [{ ...result('2025-11-25T11:57:00.000Z', false, 5), name: 'check-disk.json', title: 'check-disk' }],
    },
  ];
  const promises = promisesView({ partitionId: 'p1', promises: history });
  const html = String(
    await PartitionPage({
      now: NOW,
      partition: partitionView(partition()),
      promises: { ...promises, nextCursor: null },
      params: { limit: 50, from: 1 },
      bangs: { items: [], nextCursor: null },
    }),
  );
  const http = html.slice(html.indexOf('data-promise="check-http"'), html.indexOf('data-promise="check-disk"'));
  expect(http.match(/<circle data-point/g)).toHaveLength(4);
  expect(http.match(/data-status="failed"/g)).toHaveLength(2);
  expect(html.slice(html.indexOf('data-promise="check-disk"')).match(/<circle data-point/g)).toHaveLength(1);
  // failed promise listed first; colours carry text
  expect(html.indexOf('data-promise="check-http"')).toBeLessThan(html.indexOf('data-promise="check-disk"'));
  expect(html).toMatch(/class="badge red"[^>]*>FAIL</);
  expect(html).toMatch(/class="badge green"[^>]*>OK</);
  expect(html).toContain('promise-never-passes');
  expect(html).toContain('HTTP 502 from http://x');
  expect(html).toMatch(/promise check-http failed: 502<\/span> <span class="since"[^>]*>since <time[^>]*>1 h ago</);
});

test('fleet page escapes API text; the summary counts link to filtered lists; a next link', async () => {
  const computers = [
    {
      computerId: 'c1',
      colour: 'orange' as const,
      colourReason: '<script>alert(1)</script>',
      colourSince: '2025-11-25T11:55:00.000Z',
      lastContactAt: '2025-11-25T11:57:00.000Z',
    },
  ];
  const failing = [partitionView(partition())];
  const summary = { counts: { computers: { green: 3, orange: 1, red: 0 }, partitions: { green: 7, red: 1 }, asOf: '2025-11-25T11:59:00.000Z' } };
  const html = String(
    await FleetPage({
      now: NOW,
      summary,
      params: { limit: 100, from: 1 },
      computers: { items: computers, nextCursor: 'abc' },
      failing: { items: failing, nextCursor: null },
    }),
  );
  expect(html).not.toContain('<script>alert(1)');
  expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  expect(html).toContain('3 min ago');
  // since when: the computer orange for 5 min, the partition red for 1 h
  expect(html).toMatch(/data-computer="c1"[\s\S]*?data-since="2025-11-25T11:55:00.000Z">since <time[^>]*>5 min ago</);
  expect(html).toMatch(/data-partition="p1"[\s\S]*?data-since="2025-11-25T11:00:00.000Z">since <time[^>]*>1 h ago</);
  expect(html).toMatch(/data-count="partitions-red" href="\/partitions\?colour=red"[\s\S]*?<b>1<\/b>/);
  expect(html).toMatch(/data-count="computers-orange" href="\/\?colour=orange"[\s\S]*?<b>1<\/b>/);
  expect(html).toMatch(/counts as of <time[^>]*>1 min ago</);
  expect(html).toContain('href="/partitions?colour=red&amp;computer=c1"');
  expect(html).toContain('<a href="/?cursor=abc&amp;from=2" rel="next" data-goto="next">');
  expect(html).toContain('name="viewport"');
  // the summary could not be read: the page still shows, saying so
  const without = String(
    await FleetPage({ now: NOW, summary: { unavailable: 'GET /v1/summary answered 404' }, params: { limit: 100, from: 1 }, computers: { items: computers, nextCursor: null }, failing: { items: [], nextCursor: null } }),
  );
  expect(without).toContain('Fleet counts unavailable: GET /v1/summary answered 404');
  expect(without).toContain('data-computer="c1"');
});

test('login page: marked for the refresh script, posts the token to /login with next', async () => {
  const html = String(await LoginPage({ next: '/trees' }));
  expect(html).toContain('<body data-page="login">');
  expect(html).toMatch(/<form method="post" action="\/login">/);
  expect(html).toContain('name="next" value="/trees"');
  expect(html).toMatch(/<input id="token" name="token" type="password"/);
});

test('chart with no history says so', async () => {
  expect(String(await HistoryChart({ title: 'x', history: [] }))).toContain('No history yet');
});

test('bidi controls become visible markers, everything else is left alone', () => {
  const controls = '\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069';
  expect(neutraliseBidi(`a${controls}b`)).toBe(
    'a[U+061C][U+200E][U+200F][U+202A][U+202B][U+202C][U+202D][U+202E][U+2066][U+2067][U+2068][U+2069]b',
  );
  const plain = 'שלום مرحبا 💥 \u200B\u200D <b>&amp;';
  expect(neutraliseBidi(plain)).toBe(plain);
});
