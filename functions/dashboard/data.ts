// The dashboard's only data source: the master's own JSON API (GET /v1/...), read with the
// admin token through the typed client (protocol/client.ts; in process, `fetch` is
// `app.request`). This keeps the dashboard decoupled from the store; the adapters below turn
// the API's (validated) answers into the small view types the pages render, optional fields
// shown as "–".
import type { VigilClient } from '../../protocol/client.ts';
import type {
  Bang,
  Colour,
  Computer,
  LastReportSummary,
  Partition,
  PartitionDetail,
  PartitionPromises,
  PromiseHistory,
} from '../../protocol/index.ts';
import { mapLimit } from '../lib/concurrency.ts';
import type { HistoryEntry } from './view-model.ts';

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

/** A partition's bang quota use today (UTC). */
export interface QuotaUseView {
  partitionId: string;
  used: number;
  quotaPerDay: number;
}

/** Partition reads in flight for the bang page's quota table. */
const QUOTA_READS_IN_FLIGHT = 8;

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

const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

export function computerView(c: Computer): ComputerView {
  return {
    computerId: c.computerId,
    colour: c.colour,
    colourReason: c.colourReason,
    colourSince: opt(c.colourSince),
    lastContactAt: opt(c.lastContactAt),
    agentVersion: opt(c.agentVersion),
    instantiationFrequencySeconds: c.instantiationFrequencySeconds,
  };
}

/** A listed partition, or one partition with its quota use today (GET /v1/partitions/{id}). */
export function partitionView(p: Partition & Partial<Pick<PartitionDetail, 'bangsToday' | 'bangQuotaPerDay'>>): PartitionView {
  return {
    partitionId: p.partitionId,
    computerId: p.computerId,
    instanceTreeId: p.instanceTreeId,
    softwareReleaseId: p.softwareReleaseId,
    colour: p.colour,
    colourReason: p.colourReason,
    colourSince: opt(p.colourSince),
    lastReportAt: opt(p.lastReport?.receivedAt),
    lastReportOk: opt(p.lastReport?.ok),
    lastBangAt: opt(p.lastBangAt),
    reprocess: p.reprocess ? { requestedAt: p.reprocess.requestedAt, reason: p.reprocess.reason } : undefined,
    crimes: p.crimes.map((c) => ({ rule: c.code, message: c.message })),
    bangsToday: p.bangsToday,
    bangQuotaPerDay: p.bangQuotaPerDay,
  };
}

export function promiseView(h: PromiseHistory): PromiseView {
  const latest = h.latest;
  return {
    name: h.name,
    title: h.title || h.name,
    kind: latest.kind,
    failed: latest.failed,
    message: latest.message,
    date: latest.date,
    executionTimeMs: latest.executionTimeMs,
    history: h.history.map((r) => ({
      date: r.date,
      failed: r.failed,
      executionTimeMs: r.executionTimeMs,
      message: r.message,
    })),
  };
}

export function instantiationView(r: LastReportSummary): InstantiationView {
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
export function promisesView(answer: Pick<PartitionPromises, 'partitionId' | 'promises'> & Partial<Pick<PartitionPromises, 'reports'>>, partition?: Partition): PromisesView {
  const reports = answer.reports ?? [];
  const fallback = partition?.lastReport ? [partition.lastReport] : [];
  return {
    promises: answer.promises.map(promiseView),
    instantiations: (reports.length ? reports : fallback).map(instantiationView),
  };
}

export function bangView(b: Bang): BangView {
  // `accepted: false` = rejected by the daily quota (429).
  const accepted = b.accepted && b.fanOut !== 'rejected';
  return {
    bangId: b.bangId,
    partitionId: b.partitionId,
    instanceTreeId: b.instanceTreeId,
    source: b.source,
    message: b.message,
    at: b.createdAt,
    accepted,
    fannedOutTo: accepted ? b.fannedOutTo : 0,
    status: b.fanOut,
  };
}

/** Reads the master API with the admin token. Non-2xx → VigilApiError (404 shows a 404 page). */
export class DashboardData {
  constructor(private readonly client: VigilClient) {}

  async computers(): Promise<ComputerView[]> {
    return (await this.client.listComputers()).computers.map(computerView);
  }

  async computer(id: string): Promise<ComputerView> {
    return computerView(await this.client.getComputer(id));
  }

  async partitions(instanceTreeId?: string): Promise<PartitionView[]> {
    return (await this.client.listPartitions(instanceTreeId ? { instanceTreeId } : {})).partitions.map(partitionView);
  }

  /** One partition as the API answers it (with its quota use today). */
  rawPartition(id: string): Promise<PartitionDetail> {
    return this.client.getPartition(id);
  }

  /** The quota use today of these partitions: the master's counters (those it enforces). */
  async quotaUse(partitionIds: string[]): Promise<QuotaUseView[]> {
    return mapLimit(partitionIds, QUOTA_READS_IN_FLIGHT, async (id) => {
      const p = await this.client.getPartition(id);
      return { partitionId: id, used: p.bangsToday, quotaPerDay: p.bangQuotaPerDay };
    });
  }

  async tree(id: string): Promise<PartitionView[]> {
    return (await this.client.getInstanceTree(id)).partitions.map(partitionView);
  }

  async promises(partitionId: string): Promise<PromisesView> {
    return promisesView(await this.client.partitionPromises(partitionId));
  }

  /** The bang log, newest first: the API's default 200, or up to `limit` (max 1000). */
  async bangs(partitionId?: string, limit?: number): Promise<BangView[]> {
    return (await this.client.listBangs({ ...(partitionId ? { partitionId } : {}), ...(limit ? { limit } : {}) })).bangs.map(bangView);
  }

}
