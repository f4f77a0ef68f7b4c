// The dashboard's only data source: the master's own JSON API (GET /v1/...), called with
// the admin token through an injected `api` function (in-process `app.request`). This keeps
// the dashboard decoupled from the store; the adapters below turn the API's JSON into the
// small view types the pages render, and tolerate missing optional fields (shown as "–").
import type {
  Bang,
  Computer,
  LastReportSummary,
  Partition,
  PromiseHistory,
  SoftwareRelease,
} from '../../protocol/index.ts';
import { type Colour, type HistoryEntry, quotaUseToday, toColour } from './view-model.ts';

export type ApiFn = (path: string, init: RequestInit) => Response | Promise<Response>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ComputerView {
  computerId: string;
  colour: Colour;
  colourReason: string;
  /** When the current colour started (master clock). */
  colourSince?: string;
  lastContactAt?: string;
  agentVersion?: string;
  instantiationFrequencySeconds?: number;
}

export interface CrimeView {
  rule: string;
  message: string;
}

export interface ReprocessView {
  requestedAt?: string;
  reason: string;
}

export interface PartitionView {
  partitionId: string;
  computerId: string;
  instanceTreeId: string;
  softwareReleaseId: string;
  colour: Colour;
  colourReason: string;
  /** When the current colour started (master clock). */
  colourSince?: string;
  lastReportAt?: string;
  lastReportOk?: boolean;
  lastBangAt?: string;
  reprocess?: ReprocessView;
  crimes: CrimeView[];
  bangsToday?: number;
  bangQuotaPerDay?: number;
}

export interface PromiseView {
  name: string;
  title: string;
  kind: string;
  failed: boolean;
  message: string;
  date?: string;
  executionTimeMs?: number;
  history: HistoryEntry[];
}

export interface InstantiationView {
  reportId?: string;
  kind: string;
  startedAt?: string;
  durationMs?: number;
  ok: boolean;
  error?: string;
}

export interface PromisesView {
  promises: PromiseView[];
  instantiations: InstantiationView[];
}

export interface BangView {
  bangId: string;
  partitionId: string;
  instanceTreeId?: string;
  source: string;
  message: string;
  at: string;
  accepted: boolean;
  fannedOutTo?: number;
  status?: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Obj, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/** A list response `{ <key>: [...] }` (protocol/ …List shapes); anything else → []. */
export function asList<T>(json: unknown, key: string): T[] {
  const arr = isObj(json) ? json[key] : undefined;
  return Array.isArray(arr) ? (arr.filter(isObj) as T[]) : [];
}

const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

export function toComputer(c: Computer): ComputerView {
  return {
    computerId: c.computerId,
    colour: toColour(c.colour),
    colourReason: c.colourReason ?? '',
    colourSince: opt(c.colourSince),
    lastContactAt: opt(c.lastContactAt),
    agentVersion: opt(c.agentVersion),
    instantiationFrequencySeconds: opt(c.instantiationFrequencySeconds),
  };
}

/** Fields the dashboard shows when the master sends them (not in every version). */
type PartitionExtras = { bangsToday?: number; bangQuotaPerDay?: number };

export function toPartition(p: Partition & PartitionExtras): PartitionView {
  return {
    partitionId: p.partitionId,
    computerId: p.computerId,
    instanceTreeId: p.instanceTreeId,
    softwareReleaseId: p.softwareReleaseId,
    colour: toColour(p.colour),
    colourReason: p.colourReason ?? '',
    colourSince: opt(p.colourSince),
    lastReportAt: opt(p.lastReport?.receivedAt),
    lastReportOk: opt(p.lastReport?.ok),
    lastBangAt: opt(p.lastBangAt),
    reprocess: p.reprocess ? { requestedAt: p.reprocess.requestedAt, reason: p.reprocess.reason } : undefined,
    crimes: (p.crimes ?? []).map((c) => ({ rule: c.code, message: c.message })),
    bangsToday: typeof p.bangsToday === 'number' ? p.bangsToday : undefined,
    bangQuotaPerDay: typeof p.bangQuotaPerDay === 'number' ? p.bangQuotaPerDay : undefined,
  };
}

export function toPromise(h: PromiseHistory): PromiseView {
  const latest = h.latest;
  return {
    name: h.name,
    title: h.title || h.name,
    kind: latest?.kind ?? '',
    failed: latest?.failed ?? false,
    message: latest?.message ?? '',
    date: latest?.date,
    executionTimeMs: latest?.executionTimeMs,
    history: (h.history ?? []).map((r) => ({
      date: r.date,
      failed: r.failed,
      executionTimeMs: r.executionTimeMs,
      message: r.message,
    })),
  };
}

export function toInstantiation(r: LastReportSummary): InstantiationView {
  return {
    reportId: r.reportId,
    kind: r.kind,
    startedAt: r.startedAt,
    durationMs: r.durationMs,
    ok: r.ok,
    error: opt(r.error),
  };
}

/**
 * The promises of a partition. The instantiation reports come from `reports` when the
 * master sends recent report summaries there, else from the partition's last report.
 */
export function toPromises(json: unknown, partition?: Partition): PromisesView {
  const reports = asList<LastReportSummary>(json, 'reports');
  const fallback = partition?.lastReport ? [partition.lastReport] : [];
  return {
    promises: asList<PromiseHistory>(json, 'promises').map(toPromise),
    instantiations: (reports.length ? reports : fallback).map(toInstantiation),
  };
}

export function toBang(b: Bang): BangView {
  // `accepted: false` = rejected by the daily quota (429); older masters did not list those.
  const accepted = b.accepted !== false && b.fanOut !== 'rejected';
  return {
    bangId: b.bangId,
    partitionId: b.partitionId,
    instanceTreeId: b.instanceTreeId,
    source: b.source,
    message: b.message ?? '',
    at: b.createdAt,
    accepted,
    fannedOutTo: accepted ? b.fannedOutTo : 0,
    status: b.fanOut,
  };
}

/**
 * Fills each partition's bang quota use today (accepted bangs since 00:00 UTC in the log)
 * and daily quota (from its software release), unless the master already sent them.
 */
export function withQuota(
  partitions: PartitionView[],
  bangs: BangView[],
  releases: SoftwareRelease[],
  now: Date,
): PartitionView[] {
  const used = quotaUseToday(bangs, now);
  const quota = new Map(releases.map((r) => [r.softwareReleaseId, r.bangQuotaPerDay]));
  return partitions.map((p) => ({
    ...p,
    bangsToday: p.bangsToday ?? used.get(p.partitionId) ?? 0,
    bangQuotaPerDay: p.bangQuotaPerDay ?? quota.get(p.softwareReleaseId),
  }));
}

/** Reads the master API with the admin token. Non-2xx → ApiError (404 shows a 404 page). */
export class DashboardData {
  constructor(
    private readonly api: ApiFn,
    private readonly token: string,
  ) {}

  private async get(path: string): Promise<unknown> {
    const res = await this.api(path, {
      method: 'GET',
      headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const message = isObj(body) ? (str(body, 'message', 'error') ?? text) : text;
      throw new ApiError(res.status, path, `${path}: ${res.status} ${message.slice(0, 300)}`);
    }
    return body;
  }

  async computers(): Promise<ComputerView[]> {
    return asList<Computer>(await this.get('/v1/computers'), 'computers').map(toComputer);
  }

  async computer(id: string): Promise<ComputerView> {
    return toComputer((await this.get(`/v1/computers/${encodeURIComponent(id)}`)) as Computer);
  }

  async partitions(instanceTreeId?: string): Promise<PartitionView[]> {
    const q = instanceTreeId ? `?instanceTreeId=${encodeURIComponent(instanceTreeId)}` : '';
    return asList<Partition>(await this.get(`/v1/partitions${q}`), 'partitions').map(toPartition);
  }

  async rawPartition(id: string): Promise<Partition> {
    return (await this.get(`/v1/partitions/${encodeURIComponent(id)}`)) as Partition;
  }

  async tree(id: string): Promise<PartitionView[]> {
    return asList<Partition>(await this.get(`/v1/instance-trees/${encodeURIComponent(id)}`), 'partitions').map(
      toPartition,
    );
  }

  async promises(partitionId: string): Promise<PromisesView> {
    return toPromises(await this.get(`/v1/partitions/${encodeURIComponent(partitionId)}/promises`));
  }

  /** The bang log, newest first: the API's default 200, or up to `limit` (max 1000). */
  async bangs(partitionId?: string, limit?: number): Promise<BangView[]> {
    const q = new URLSearchParams();
    if (partitionId) q.set('partitionId', partitionId);
    if (limit) q.set('limit', String(limit));
    const qs = q.toString() ? `?${q.toString()}` : '';
    return asList<Bang>(await this.get(`/v1/bangs${qs}`), 'bangs').map(toBang);
  }

  /** Software releases (for the bang quota); [] when the master has no such list. */
  async softwareReleases(): Promise<SoftwareRelease[]> {
    try {
      return asList<SoftwareRelease>(await this.get('/v1/software-releases'), 'softwareReleases');
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return [];
      throw err;
    }
  }
}
