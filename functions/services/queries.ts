// The admin's reads: wire views of records at the master's clock; null when not found.
import type {
  Bang,
  Computer,
  InstanceTree,
  Partition,
  PartitionDetail,
  PartitionPromises,
  PromiseHistory,
  SoftwareRelease,
} from '../../protocol/index.ts';
import { treeColour } from '../domain/colours.ts';
import { quotaDay } from '../domain/quota.ts';
import type { HistoryRecord } from '../domain/records.ts';
import { wireBang, wireComputer, wirePartition } from '../views.ts';
import type { ServiceDeps } from './deps.ts';

type Deps = Pick<ServiceDeps, 'store' | 'now'>;

/** Latest results kept per promise, and recent reports, on GET …/promises. */
const HISTORY_SHOWN = 50;
/** Bangs listed when no limit is asked. */
export const DEFAULT_BANG_LIST_LIMIT = 200;

const byPartitionId = (a: { partitionId: string }, b: { partitionId: string }) => (a.partitionId < b.partitionId ? -1 : a.partitionId > b.partitionId ? 1 : 0);

export const listSoftwareReleases = (deps: Deps): Promise<SoftwareRelease[]> => deps.store.listSoftwareReleases();

export const getSoftwareRelease = (deps: Deps, id: string): Promise<SoftwareRelease | null> => deps.store.getSoftwareRelease(id);

export async function listComputers(deps: Deps): Promise<Computer[]> {
  const now = deps.now();
  return (await deps.store.listComputers()).map((c) => wireComputer(c, now));
}

export async function getComputer(deps: Deps, id: string): Promise<Computer | null> {
  const c = await deps.store.getComputer(id);
  return c ? wireComputer(c, deps.now()) : null;
}

export async function listPartitions(deps: Deps, filter: { instanceTreeId?: string; computerId?: string }): Promise<Partition[]> {
  const now = deps.now();
  const list = await deps.store.listPartitions(filter);
  return list.sort(byPartitionId).map((p) => wirePartition(p, now));
}

/** One partition, with its bang quota use today (the store's counter, as the quota is enforced). */
export async function getPartition(deps: Deps, id: string): Promise<PartitionDetail | null> {
  const p = await deps.store.getPartition(id);
  if (!p) return null;
  const now = deps.now();
  return { ...wirePartition(p, now), bangsToday: await deps.store.bangQuotaUsed(p.partitionId, quotaDay(now)), bangQuotaPerDay: p.bangQuotaPerDay };
}

/** An instance tree: its partitions, its colour (the worst of theirs) and why. */
export async function getInstanceTree(deps: Deps, instanceTreeId: string): Promise<InstanceTree | null> {
  const partitions = await listPartitions(deps, { instanceTreeId });
  if (partitions.length === 0) return null;
  return { instanceTreeId, ...treeColour(partitions), partitions, nextCursor: null };
}

/** The latest result and recent history of each promise of a partition, and its recent reports. */
export async function getPartitionPromises(deps: Deps, partitionId: string): Promise<PartitionPromises | null> {
  const p = await deps.store.getPartition(partitionId);
  if (!p) return null;
  const { results, reports } = await deps.store.listHistory(partitionId, Math.floor(deps.now().getTime() / 1000));
  const byName = new Map<string, HistoryRecord[]>();
  for (const r of results) {
    const list = byName.get(r.name) ?? [];
    list.push(r);
    byName.set(r.name, list);
  }
  const strip = ({ partitionId: _p, expiresAt: _e, ...rest }: HistoryRecord) => rest;
  const promises: PromiseHistory[] = [];
  for (const [name, list] of [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    list.sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : a.receivedAt < b.receivedAt ? 1 : -1));
    const latest = list[0];
    if (!latest) continue;
    promises.push({ name, title: latest.title, latest: strip(latest), history: list.slice(0, HISTORY_SHOWN).map(strip) });
  }
  reports.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  return { partitionId, promises, reports: reports.slice(0, HISTORY_SHOWN).map(({ partitionId: _p, expiresAt: _e, ...r }) => r), nextCursor: null };
}

export async function listBangs(deps: Deps, filter: { partitionId?: string }, limit = DEFAULT_BANG_LIST_LIMIT): Promise<Bang[]> {
  return (await deps.store.listBangs(filter, limit)).map(wireBang);
}
