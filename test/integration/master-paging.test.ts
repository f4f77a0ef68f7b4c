// Paging (SPEC §3 "Fleet scale"): every list answers pages of `limit` items with an opaque
// `nextCursor`; the pages hold every item exactly once, filters combine with paging, a cursor
// given with other filters is a 400 naming query.cursor, no answer is over 1 MiB; the
// summary is one read; `vigil admin … list` pages through everything.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMasterServer } from '../../functions/local/http-server.ts';
import { runSweep } from '../../functions/services/sweep.ts';
import { allPages } from '../../protocol/client.ts';
import type { Partition, PartitionListQuery } from '../../protocol/index.ts';
import { createTestMaster, errorBody, type TestMaster } from '../helpers/master.ts';
import { addComputer, addPartition, addSr, report, runAdmin } from '../helpers/master-fleet.ts';

const MiB = 1024 * 1024;

/** Every partition of a filtered list, page by page (checking each page's size). */
async function pageAll(m: TestMaster, q: PartitionListQuery, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  for await (const page of allPages((cursor) => m.api.listPartitions({ ...q, limit, ...(cursor ? { cursor } : {}) }))) {
    pages++;
    expect(page.partitions.length).toBeLessThanOrEqual(limit);
    ids.push(...page.partitions.map((p) => p.partitionId));
    if (pages > 500) throw new Error('no end of pages');
  }
  return { ids, pages };
}

describe('partition pages against a random fleet', () => {
  let m: TestMaster;
  /** Each partition as the API shows it (at the test clock). */
  let truth: Partition[];
  const computers = ['ca', 'cb', 'cc', 'cd'];
  const trees = ['ta', 'tb', 'tc'];
  beforeAll(async () => {
    m = await createTestMaster({ dashboard: false });
    await addSr(m, 'sr');
    const tokens = new Map<string, string>();
    for (const c of computers) tokens.set(c, await addComputer(m, c));
    // 120 partitions with random ids, on random computers and trees; some never report (red),
    // some fail (red, some with a crime: failed 3 times), the others are green
    const [fleet] = fc.sample(
      fc.uniqueArray(
        fc.record({ id: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,12}$/), c: fc.constantFrom(...computers), t: fc.constantFrom(...trees), state: fc.constantFrom('none', 'ok', 'ok', 'fail', 'crime') }),
        { minLength: 120, maxLength: 120, selector: (r) => r.id },
      ),
      { numRuns: 1, seed: 1206 },
    );
    for (const p of fleet ?? []) {
      await addPartition(m, p.id, p.c, p.t, 'sr');
      const token = tokens.get(p.c) as string;
      const reports = p.state === 'none' ? 0 : p.state === 'crime' ? 3 : 1;
      for (let i = 0; i < reports; i++) {
        m.clock.advance(1000);
        await m.as(token).report(p.id, report(`${p.id}-${i}`, m.clock.now(), [{ name: 'a.json', failed: p.state !== 'ok' }]));
      }
    }
    truth = [];
    for await (const page of allPages((cursor) => m.api.listPartitions({ limit: 1000, ...(cursor ? { cursor } : {}) }))) truth.push(...page.partitions);
  }, 300_000);
  afterAll(() => m?.dispose());

  it('the fleet is what was registered, sorted by id', () => {
    expect(truth).toHaveLength(120);
    const ids = truth.map((p) => p.partitionId);
    expect(ids).toEqual([...ids].sort());
    expect(truth.some((p) => p.colour === 'red') && truth.some((p) => p.colour === 'green') && truth.some((p) => p.crimes.length > 0)).toBe(true);
  });

  it('for any filters and limit, the pages hold exactly the matching partitions, once each', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          instanceTreeId: fc.option(fc.constantFrom(...trees), { nil: undefined }),
          computerId: fc.option(fc.constantFrom(...computers), { nil: undefined }),
          colour: fc.option(fc.constantFrom('green' as const, 'red' as const), { nil: undefined }),
          crimes: fc.option(fc.constant('true' as const), { nil: undefined }),
        }),
        fc.integer({ min: 1, max: 40 }),
        async (filter, limit) => {
          const q = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as PartitionListQuery;
          const expected = truth
            .filter((p) => (!q.instanceTreeId || p.instanceTreeId === q.instanceTreeId) && (!q.computerId || p.computerId === q.computerId))
            .filter((p) => (!q.colour || p.colour === q.colour) && (!q.crimes || p.crimes.length > 0))
            .map((p) => p.partitionId);
          const { ids } = await pageAll(m, q, limit);
          expect(new Set(ids).size).toBe(ids.length);
          expect([...ids].sort()).toEqual([...expected].sort());
          // sorted by id, except ?colour=red (by tree, then id)
          if (q.colour !== 'red') expect(ids).toEqual([...expected].sort());
        },
      ),
      { numRuns: 25, seed: 12 },
    );
  }, 300_000);

  it('partitions added while paging: those there throughout appear once, no duplicate', async () => {
    const before = new Set(truth.map((p) => p.partitionId));
    const seen: string[] = [];
    let cursor: string | undefined;
    let n = 0;
    do {
      const page = await m.api.listPartitions({ limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...page.partitions.map((p) => p.partitionId));
      cursor = page.nextCursor ?? undefined;
      // new ids before, inside and after the range already read
      await addPartition(m, `0-new-${n}`, 'ca', 'ta', 'sr');
      await addPartition(m, `m-new-${n}`, 'cb', 'tb', 'sr');
      await addPartition(m, `zzz-new-${n}`, 'cc', 'tc', 'sr');
      n++;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen, id).toContain(id);
  }, 300_000);

  it('a cursor is refused (400 naming query.cursor) with other filters, on another list, or tampered with', async () => {
    const red = await m.api.listPartitions({ colour: 'red', limit: 2 });
    const cursor = red.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    for (const path of [
      `/v1/partitions?cursor=${cursor}`,
      `/v1/partitions?colour=green&cursor=${cursor}`,
      `/v1/partitions?colour=red&instanceTreeId=ta&cursor=${cursor}`,
      `/v1/computers?cursor=${cursor}`,
      `/v1/bangs?cursor=${cursor}`,
      '/v1/partitions?cursor=garbage',
      `/v1/partitions?colour=red&cursor=${Buffer.from(JSON.stringify({ f: 'x', k: {} })).toString('base64url')}`,
      `/v1/partitions?colour=red&cursor=${cursor.slice(0, -4)}`,
    ]) {
      const r = await m.call('GET', path);
      expect(r.status, path).toBe(400);
      expect(errorBody(r).message, path).toMatch(/^query\.cursor: /);
    }
    // the same filters: the next page
    expect((await m.api.listPartitions({ colour: 'red', limit: 2, cursor })).partitions.length).toBeGreaterThan(0);
    // a cursor naming a key of another tree, with this tree's fingerprint, is refused too
    const page = await m.api.listPartitions({ instanceTreeId: 'ta', limit: 1 });
    const decoded = JSON.parse(Buffer.from(page.nextCursor as string, 'base64url').toString()) as { f: string; k: Record<string, string> };
    const forged = Buffer.from(JSON.stringify({ f: decoded.f, k: { ...decoded.k, tr: 'tb' } })).toString('base64url');
    expect((await m.call('GET', `/v1/partitions?instanceTreeId=ta&cursor=${forged}`)).status).toBe(400);
  });

  it('limit: default 100, at most 1000 (400 above)', async () => {
    expect((await m.api.listPartitions()).partitions).toHaveLength(100);
    expect((await m.call('GET', '/v1/partitions?limit=1001')).status).toBe(400);
    expect((await m.call('GET', '/v1/partitions?limit=0')).status).toBe(400);
    expect((await m.api.listPartitions({ limit: 1000 })).nextCursor).toBeNull();
  });

  it('an instance tree page carries the colour of the whole tree', async () => {
    const inTree = truth.filter((p) => p.instanceTreeId === 'ta');
    const greenFirst = inTree.find((p) => p.colour === 'green');
    expect(greenFirst && inTree.some((p) => p.colour === 'red')).toBeTruthy();
    const page = await m.api.getInstanceTree('ta', { limit: 1 });
    expect(page.partitions).toHaveLength(1);
    expect(page.colour).toBe('red');
    expect(page.colourReason).toMatch(/^\d+ of \d+ partitions red; /);
    const all: string[] = [];
    for await (const p of allPages((cursor) => m.api.getInstanceTree('ta', { limit: 4, ...(cursor ? { cursor } : {}) }))) {
      expect(p.colour).toBe('red');
      all.push(...p.partitions.map((x) => x.partitionId));
    }
    expect(all).toEqual([...all].sort());
    expect(new Set(all).size).toBe(all.length);
  });

  it('the summary: counts of the last sweep, one read whatever the fleet', async () => {
    await runSweep(m, m.clock.now());
    m.aws.counter.reset();
    const s = await m.api.summary();
    expect(m.aws.counter.byCommand()).toEqual({ GetItemCommand: 1 });
    const all: Partition[] = [];
    for await (const page of allPages((cursor) => m.api.listPartitions({ limit: 1000, ...(cursor ? { cursor } : {}) }))) all.push(...page.partitions);
    expect(s.partitions).toEqual({ green: all.filter((p) => p.colour === 'green').length, red: all.filter((p) => p.colour === 'red').length });
    expect(s.computers).toEqual({ green: 0, orange: 0, red: computers.length });
    expect(s.asOf).toBe(m.clock.now().toISOString());
  });

  it('vigil admin partition list pages through everything', async () => {
    const server: Server = createMasterServer({ fetch: m.app.fetch });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const total = (await pageAll(m, {}, 1000)).ids.length;
      expect(total).toBeGreaterThan(100);
      const r = await runAdmin(url, m.adminToken, 'partition', 'list', '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).partitions).toHaveLength(total);
      const red = await runAdmin(url, m.adminToken, 'partition', 'list', '--colour', 'red', '--tree', 'ta');
      const redInTa = (await pageAll(m, { colour: 'red', instanceTreeId: 'ta' }, 1000)).ids.length;
      expect(red.out.trim().split('\n').length - 1).toBe(redInTa);
      const s = await runAdmin(url, m.adminToken, 'summary');
      expect(s.out).toMatch(/^computers: 0 green, 0 orange, 4 red\npartitions: \d+ green, \d+ red\nas of /);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('page sizes', () => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await createTestMaster({ dashboard: false });
  });
  afterAll(() => m?.dispose());

  it('bangs with 5000-character messages: a page of limit 1000 stops under 1 MiB, the next page goes on', async () => {
    await addSr(m, 'srb', { bangQuotaPerDay: 100_000 });
    const token = await addComputer(m, 'cbig');
    await addPartition(m, 'pbig', 'cbig', 'tbig', 'srb');
    const message = `${'x'.repeat(4990)}-end`;
    for (let i = 0; i < 260; i++) {
      m.clock.advance(1000);
      await m.as(token).bang('pbig', { bangId: `b-${String(i).padStart(3, '0')}`, message, source: 'promise' });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await m.call('GET', `/v1/bangs?partitionId=pbig&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(MiB);
      const body = r.body as { bangs: { bangId: string }[]; nextCursor: string | null };
      seen.push(...body.bangs.map((b) => b.bangId));
      cursor = body.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(1);
    expect(seen).toEqual(Array.from({ length: 260 }, (_, i) => `b-${String(259 - i).padStart(3, '0')}`));
  }, 300_000);

  it('100 promises × 400 reports: every page has the latest result of all 100 promises, the reports come once each, newest first, pages ≤ 1 MiB', async () => {
    await addSr(m, 'srh');
    const token = await addComputer(m, 'chist');
    await addPartition(m, 'phist', 'chist', 'thist', 'srh');
    const names = Array.from({ length: 100 }, (_, i) => `promise-${String(i).padStart(3, '0')}.json`);
    for (let r = 0; r < 400; r++) {
      m.clock.advance(60_000);
      // the last report: promise-057 fails (the one the old listing lost)
      const promises = names.map((name) => ({ name, failed: r === 399 && name === 'promise-057.json', message: `${name}: checked in report ${r} ${'·'.repeat(40)}` }));
      await m.as(token).report('phist', report(`r-${String(r).padStart(3, '0')}`, m.clock.now(), promises));
    }
    const reports: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const raw = await m.call('GET', `/v1/partitions/phist/promises?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      expect(raw.status).toBe(200);
      expect(Buffer.byteLength(raw.text)).toBeLessThanOrEqual(MiB);
      const page = await m.api.partitionPromises('phist', { limit: 1000, ...(cursor ? { cursor } : {}) });
      expect(page.promises.map((p) => p.name)).toEqual(names);
      const failing = page.promises.find((p) => p.name === 'promise-057.json');
      expect(failing?.latest).toMatchObject({ failed: true, reportId: 'r-399' });
      for (const p of page.promises) expect(p.history.every((h) => page.reports.some((r) => r.reportId === h.reportId))).toBe(true);
      reports.push(...page.reports.map((r) => r.reportId));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(1);
    expect(reports).toEqual(Array.from({ length: 400 }, (_, i) => `r-${String(399 - i).padStart(3, '0')}`));
  }, 600_000);
});
