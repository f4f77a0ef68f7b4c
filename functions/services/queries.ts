// The admin's reads: pages of wire views at the master's clock; null when not found.
// Every list is a page (`limit` default 100, max 1000; `cursor`): the pages hold every item
// once, in a stable order; filters combine with paging; a page is cut short before its JSON
// would pass PAGE_BYTES (its nextCursor then starts at the item left out).
import type {
  Bang,
  BangListQuery,
  Colour,
  Computer,
  ComputerListQuery,
  InstanceTree,
  PageQuery,
  Partition,
  PartitionDetail,
  PartitionListQuery,
  PartitionPromises,
  PromiseHistory,
  PromiseResult,
  SoftwareRelease,
  Summary,
} from '../../protocol/index.ts';
import { PAGE_LIMIT_DEFAULT } from '../../protocol/limits.ts';
import { treeColourOf } from '../domain/colours.ts';
import { quotaDay } from '../domain/quota.ts';
import type { ReportHistoryRecord } from '../domain/records.ts';
import { computerVerdict, partitionVerdict } from '../domain/transitions.ts';
import { jsonBytes } from '../lib/json-size.ts';
import type { Accept, Page, PartitionFilter } from '../store/types.ts';
import { wireBang, wireComputer, wirePartition } from '../views.ts';
import type { ServiceDeps } from './deps.ts';
import { refreshSummary } from './sweep.ts';

type Deps = Pick<ServiceDeps, 'store' | 'now'>;

/** JSON bytes of a page's items at most (1 MiB with room for the rest of the answer). */
export const PAGE_BYTES = 1024 * 1024 - 32 * 1024;

const limitOf = (q: PageQuery): number => q.limit ?? PAGE_LIMIT_DEFAULT;

/** Takes items while their wire JSON fits in `budget` bytes (and `keep` says so). */
export function fitting<T>(wire: (t: T) => unknown, keep: (t: T) => boolean = () => true, budget = PAGE_BYTES): Accept<T> {
  let used = 0;
  let taken = 0;
  return (t) => {
    if (!keep(t)) return 'skip';
    const size = jsonBytes(wire(t)) + 1;
    if (taken > 0 && used + size > budget) return 'stop';
    used += size;
    taken++;
    return 'take';
  };
}

const pageOf = <T, W>(page: Page<T>, wire: (t: T) => W) => ({ items: page.items.map(wire), nextCursor: page.next });

export async function listSoftwareReleases(deps: Deps, q: PageQuery): Promise<{ softwareReleases: SoftwareRelease[]; nextCursor: string | null }> {
  const page = await deps.store.listSoftwareReleases({ limit: limitOf(q), cursor: q.cursor, accept: fitting((s) => s) });
  return { softwareReleases: page.items, nextCursor: page.next };
}

export const getSoftwareRelease = (deps: Deps, id: string): Promise<SoftwareRelease | null> => deps.store.getSoftwareRelease(id);

export async function listComputers(deps: Deps, q: ComputerListQuery): Promise<{ computers: Computer[]; nextCursor: string | null }> {
  const now = deps.now();
  const colour = q.colour;
  const keep = colour ? (c: Parameters<typeof wireComputer>[0]) => computerVerdict(c, now).colour === colour : undefined;
  const page = await deps.store.listComputers({ limit: limitOf(q), cursor: q.cursor, accept: fitting((c) => wireComputer(c, now), keep), filtered: !!keep });
  const { items, nextCursor } = pageOf(page, (c) => wireComputer(c, now));
  return { computers: items, nextCursor };
}

export async function getComputer(deps: Deps, id: string): Promise<Computer | null> {
  const c = await deps.store.getComputer(id);
  return c ? wireComputer(c, deps.now()) : null;
}

/**
 * A page of partitions. `colour=red` reads the partitions recorded red (a partition whose
 * colour changed by time alone is recorded at the next sweep, within a minute), `green` the
 * others; both check the colour at the request's time. Partitions are never orange.
 */
export async function listPartitions(deps: Deps, q: PartitionListQuery): Promise<{ partitions: Partition[]; nextCursor: string | null }> {
  if (q.colour === 'orange') return { partitions: [], nextCursor: null };
  const now = deps.now();
  const filter: PartitionFilter = { instanceTreeId: q.instanceTreeId, computerId: q.computerId, recordedRed: q.colour === 'red', crimes: q.crimes === 'true' };
  const colour: Colour | undefined = q.colour;
  const keep = colour ? (p: Parameters<typeof wirePartition>[0]) => partitionVerdict(p, now).colour === colour : undefined;
  const page = await deps.store.listPartitions(filter, { limit: limitOf(q), cursor: q.cursor, accept: fitting((p) => wirePartition(p, now), keep), filtered: !!keep });
  const { items, nextCursor } = pageOf(page, (p) => wirePartition(p, now));
  return { partitions: items, nextCursor };
}

/** One partition, with its bang quota use today (the store's counter, as the quota is enforced). */
export async function getPartition(deps: Deps, id: string): Promise<PartitionDetail | null> {
  const p = await deps.store.getPartition(id);
  if (!p) return null;
  const now = deps.now();
  return { ...wirePartition(p, now), bangsToday: await deps.store.bangQuotaUsed(p.partitionId, quotaDay(now)), bangQuotaPerDay: p.bangQuotaPerDay };
}

/**
 * An instance tree: a page of its partitions, and its colour (the worst of all its
 * partitions, whatever the page: the red index, and this page's colours at the request's time).
 */
export async function getInstanceTree(deps: Deps, instanceTreeId: string, q: PageQuery): Promise<InstanceTree | null> {
  const now = deps.now();
  const [page, total, red] = await Promise.all([
    deps.store.listPartitions({ instanceTreeId }, { limit: limitOf(q), cursor: q.cursor, accept: fitting((p) => wirePartition(p, now)) }),
    deps.store.countTreePartitions(instanceTreeId),
    deps.store.treeRed(instanceTreeId),
  ]);
  if (total === 0 && page.items.length === 0) return null;
  const partitions = page.items.map((p) => wirePartition(p, now));
  const first = red.first ? wirePartition(red.first, now) : null;
  const candidates = [...(first ? [first] : []), ...partitions];
  const pageRed = partitions.filter((p) => p.colour === 'red').length;
  return { instanceTreeId, ...treeColourOf({ total: Math.max(total, partitions.length), red: Math.max(red.count, pageRed), candidates }), partitions, nextCursor: page.next };
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const newestFirst = (a: PromiseResult, b: PromiseResult) => (a.date < b.date ? 1 : a.date > b.date ? -1 : a.receivedAt < b.receivedAt ? 1 : a.receivedAt > b.receivedAt ? -1 : 0);
const resultsOf = (h: ReportHistoryRecord): PromiseResult[] => h.results.map((r) => ({ ...r, reportId: h.summary.reportId, receivedAt: h.summary.receivedAt }));

/**
 * A page of a partition's reports (newest first) with their promise results, and on every page
 * the latest result of every promise of its latest reports (of each kind: an anomaly report
 * does not hide the promises of the last instantiation).
 */
export async function getPartitionPromises(deps: Deps, partitionId: string, q: PageQuery): Promise<PartitionPromises | null> {
  const p = await deps.store.getPartition(partitionId);
  if (!p) return null;
  const nowEpoch = Math.floor(deps.now().getTime() / 1000);
  const live = (h: ReportHistoryRecord) => !h.expiresAt || h.expiresAt > nowEpoch;
  const latestKeys = [p.lastReportKey, p.otherKindReportKey].filter((k): k is string => !!k);
  const latestReports = latestKeys.length ? (await deps.store.getHistory(partitionId, latestKeys)).filter(live) : [];
  const latest = new Map<string, PromiseResult>();
  for (const r of latestReports.flatMap(resultsOf)) {
    const cur = latest.get(r.name);
    if (!cur || newestFirst(r, cur) < 0) latest.set(r.name, r);
  }
  const budget = PAGE_BYTES - jsonBytes([...latest.values()]);
  const page = await deps.store.listHistory(partitionId, {
    limit: limitOf(q),
    cursor: q.cursor,
    accept: fitting((h) => ({ s: h.summary, r: resultsOf(h) }), live, Math.max(budget, 64 * 1024)),
    // a page of big reports stops early: read a few at a time
    filtered: false,
  });
  const inPage = new Map<string, PromiseResult[]>();
  for (const r of page.items.flatMap(resultsOf)) inPage.set(r.name, [...(inPage.get(r.name) ?? []), r]);
  const promises: PromiseHistory[] = [...latest.values()].sort(byName).map((l) => ({ name: l.name, title: l.title, latest: l, history: (inPage.get(l.name) ?? []).sort(newestFirst) }));
  return { partitionId, promises, reports: page.items.map((h) => h.summary), nextCursor: page.next };
}

export async function listBangs(deps: Deps, q: BangListQuery): Promise<{ bangs: Bang[]; nextCursor: string | null }> {
  const page = await deps.store.listBangs({ partitionId: q.partitionId }, { limit: limitOf(q), cursor: q.cursor, accept: fitting(wireBang) });
  return { bangs: page.items.map(wireBang), nextCursor: page.next };
}

/** The fleet's colour counts as the last sweep wrote them (one read); computed once if no sweep ran yet. */
export async function getSummary(deps: Deps): Promise<Summary> {
  const s = (await deps.store.getSummary()) ?? (await refreshSummary(deps, deps.now()));
  const red = Math.min(s.partitionsRed, Math.max(s.partitionsTotal, s.partitionsRed));
  return { computers: s.computers, partitions: { green: Math.max(0, s.partitionsTotal - red), red }, asOf: s.asOf };
}
