// An in-memory master API that answers the reads of the paging contract (SPEC §3 "Fleet
// scale", protocol/index.ts): lists of `limit` items (default 100, max 1000) with an opaque
// `nextCursor`, the colour / tree / computer / crimes / partition filters, /v1/summary,
// single items. For dashboard tests that need a fleet of any size without a store; every
// request's path is recorded. Wire objects are built with the protocol's own types.
import type { FetchLike } from '../../protocol/client.ts';
import type { Bang, Colour, Computer, LastReportSummary, Partition, PartitionDetail, PromiseHistory, Summary } from '../../protocol/index.ts';
import { treeColour } from '../../functions/domain/colours.ts';
import type { Channel, RecordedEvent, Silence } from '../../protocol/events.ts';

export interface FakeFleet {
  computers: Computer[];
  partitions: Partition[];
  bangs: Bang[];
  /** Promises (latest + history) and reports of a partition, newest first. */
  promises: Map<string, { promises: PromiseHistory[]; reports: LastReportSummary[] }>;
  asOf: string;
  /** Notifications (newest event first); a fleet without them answers empty lists. */
  events?: RecordedEvent[];
  silences?: Silence[];
  channels?: Channel[];
}

export interface FakeApi {
  fleet: FakeFleet;
  fetch: FetchLike;
  /** Every path (with its query string) requested so far. */
  requests: string[];
}

const AT = '2025-11-25T11:00:00.000Z';

export function fakeComputer(id: string, colour: Colour, over: Partial<Computer> = {}): Computer {
  return {
    computerId: id,
    instantiationFrequencySeconds: 60,
    lastContactAt: AT,
    agentVersion: 'fake-1.0',
    colour,
    colourReason: colour === 'green' ? 'last contact 1 min ago' : 'no contact for 2 h',
    colourSince: AT,
    createdAt: AT,
    updatedAt: AT,
    ...over,
  };
}

export function fakePartition(id: string, computerId: string, instanceTreeId: string, colour: 'green' | 'red', over: Partial<Partition> = {}): Partition {
  return {
    partitionId: id,
    computerId,
    instanceTreeId,
    softwareReleaseId: 'sr',
    periodicitySeconds: null,
    colour,
    colourReason: colour === 'green' ? 'every promise kept' : `promise check-${id} failed: refused`,
    colourSince: AT,
    lastReport: null,
    reprocess: null,
    lastBangAt: null,
    crimes: [],
    flapping: false,
    createdAt: AT,
    updatedAt: AT,
    ...over,
  };
}

/** `computers` computers × `perComputer` partitions; every 7th partition red, every 13th with a crime; trees of `treeSize`. */
export function fakeFleet(opts: { computers: number; perComputer: number; treeSize?: number; bangs?: number }): FakeFleet {
  const computers: Computer[] = [];
  const partitions: Partition[] = [];
  const treeSize = opts.treeSize ?? 10;
  let n = 0;
  for (let c = 0; c < opts.computers; c++) {
    const cid = `c${String(c).padStart(5, '0')}`;
    computers.push(fakeComputer(cid, c % 11 === 0 ? 'red' : c % 5 === 0 ? 'orange' : 'green'));
    for (let k = 0; k < opts.perComputer; k++, n++) {
      const pid = `p${String(n).padStart(6, '0')}`;
      const crimes = n % 13 === 0 ? [{ code: 'promise-never-passes' as const, message: `promise check-${pid} never passed (failed in 3 reports)` }] : [];
      partitions.push(fakePartition(pid, cid, `t${String(Math.floor(n / treeSize)).padStart(5, '0')}`, n % 7 === 0 ? 'red' : 'green', { crimes }));
    }
  }
  const bangs: Bang[] = Array.from({ length: opts.bangs ?? 0 }, (_, i) => {
    const p = partitions[i % Math.max(1, partitions.length)]!;
    return {
      bangId: `b${String(i).padStart(6, '0')}`,
      partitionId: p.partitionId,
      computerId: p.computerId,
      instanceTreeId: p.instanceTreeId,
      message: `bang ${i}`,
      source: 'promise',
      createdAt: new Date(Date.parse(AT) - i * 1000).toISOString(),
      fannedOutTo: treeSize,
      fanOut: 'done',
      fanOutCompletedAt: AT,
      accepted: true,
    };
  });
  return { computers, partitions, bangs, promises: new Map(), asOf: AT };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const notFound = () => json({ error: 'not_found', message: 'not found' }, 404);

/** One page of `items` per the contract; a 400 answer for a bad limit or cursor. */
function pageOf<T>(items: T[], q: URLSearchParams): { items: T[]; nextCursor: string | null } | Response {
  const limit = q.has('limit') ? Number(q.get('limit')) : 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return json({ error: 'bad_request', message: 'limit: 1-1000' }, 400);
  const cursor = q.get('cursor');
  const start = cursor ? Number(Buffer.from(cursor, 'base64url').toString('utf8').replace(/^o:/, '')) : 0;
  if (!Number.isInteger(start) || start < 0) return json({ error: 'bad_request', message: 'cursor: not one of ours' }, 400);
  const end = start + limit;
  return { items: items.slice(start, end), nextCursor: end < items.length ? Buffer.from(`o:${end}`).toString('base64url') : null };
}

export function createFakeApi(fleet: FakeFleet): FakeApi {
  const requests: string[] = [];
  const fetch: FetchLike = (input) => {
    const url = new URL(input, 'http://fake');
    requests.push(`${url.pathname}${url.search}`);
    const q = url.searchParams;
    const seg = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (url.pathname === '/v1/summary') {
      const count = <C extends string>(list: { colour: string }[], colours: C[]) =>
        Object.fromEntries(colours.map((c) => [c, list.filter((x) => x.colour === c).length])) as Record<C, number>;
      const body: Summary = {
        computers: count(fleet.computers, ['green', 'orange', 'red']),
        partitions: count(fleet.partitions, ['green', 'red']),
        asOf: fleet.asOf,
      };
      return json(body);
    }
    if (seg[1] === 'computers' && seg.length === 2) {
      const page = pageOf(fleet.computers.filter((c) => !q.get('colour') || c.colour === q.get('colour')), q);
      return page instanceof Response ? page : json({ computers: page.items, nextCursor: page.nextCursor });
    }
    if (seg[1] === 'computers' && seg.length === 3) {
      const c = fleet.computers.find((x) => x.computerId === seg[2]);
      return c ? json(c) : notFound();
    }
    if (seg[1] === 'partitions' && seg.length === 2) {
      const list = fleet.partitions.filter(
        (p) =>
          (!q.get('colour') || p.colour === q.get('colour')) &&
          (!q.get('instanceTreeId') || p.instanceTreeId === q.get('instanceTreeId')) &&
          (!q.get('computerId') || p.computerId === q.get('computerId')) &&
          (q.get('crimes') !== 'true' || p.crimes.length > 0),
      );
      const page = pageOf(list, q);
      return page instanceof Response ? page : json({ partitions: page.items, nextCursor: page.nextCursor });
    }
    if (seg[1] === 'partitions' && seg.length >= 3) {
      const p = fleet.partitions.find((x) => x.partitionId === seg[2]);
      if (!p) return notFound();
      if (seg[3] === 'promises') {
        const h = fleet.promises.get(p.partitionId) ?? { promises: [], reports: [] };
        const page = pageOf(h.reports, q);
        if (page instanceof Response) return page;
        const ids = new Set(page.items.map((r) => r.reportId));
        const promises = h.promises.map((pr) => ({ ...pr, history: pr.history.filter((r) => ids.has(r.reportId)) }));
        return json({ partitionId: p.partitionId, promises, reports: page.items, nextCursor: page.nextCursor });
      }
      const today = fleet.bangs.filter((b) => b.partitionId === p.partitionId && b.accepted).length;
      const detail: PartitionDetail = { ...p, bangsToday: today, bangQuotaPerDay: 24 };
      return json(detail);
    }
    if (seg[1] === 'instance-trees' && seg.length === 3) {
      const all = fleet.partitions.filter((p) => p.instanceTreeId === seg[2]);
      if (all.length === 0) return notFound();
      const page = pageOf(all, q);
      if (page instanceof Response) return page;
      return json({ instanceTreeId: seg[2], ...treeColour(all), partitions: page.items, nextCursor: page.nextCursor });
    }
    if (url.pathname === '/v1/events') {
      const list = (fleet.events ?? []).filter(
        (r) => (!q.get('partitionId') || ('partitionId' in r.event && r.event.partitionId === q.get('partitionId'))) && (!q.get('computerId') || r.event.computerId === q.get('computerId')),
      );
      const page = pageOf(list, q);
      return page instanceof Response ? page : json({ events: page.items, nextCursor: page.nextCursor });
    }
    if (url.pathname === '/v1/silences') {
      const page = pageOf((fleet.silences ?? []).filter((s) => q.get('active') !== 'true' || s.active), q);
      return page instanceof Response ? page : json({ silences: page.items, nextCursor: page.nextCursor });
    }
    if (url.pathname === '/v1/channels') {
      const page = pageOf(fleet.channels ?? [], q);
      return page instanceof Response ? page : json({ channels: page.items, nextCursor: page.nextCursor });
    }
    if (url.pathname === '/v1/bangs') {
      const page = pageOf(
        fleet.bangs.filter((b) => !q.get('partitionId') || b.partitionId === q.get('partitionId')),
        q,
      );
      return page instanceof Response ? page : json({ bangs: page.items, nextCursor: page.nextCursor });
    }
    return notFound();
  };
  return { fleet, fetch, requests };
}
