// The dashboard's only data source: the master's own JSON API (GET /v1/...), read with the
// admin token through the typed client (protocol/client.ts; in process, `fetch` is
// `app.request`). This keeps the dashboard decoupled from the store; the adapters below turn
// the API's (validated) answers into the small view types the pages render, optional fields
// shown as "–".
import { type VigilClient, VigilApiError } from '../../protocol/client.ts';
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
import type { Channel, RecordedEvent, Silence } from '../../protocol/events.ts';
import type { EventSubject } from '../domain/silences.ts';
import { silencesHolding } from './notify-view.ts';
import type { HistoryEntry } from './view-model.ts';

/** Active silences read to mark a page as silenced (one API page: silences are few). */
export const ACTIVE_SILENCES_READ = 100;

/** The active silences holding a page's subject; `all` the active ones read, `more` when there were more. */
export interface SilencedView {
  silences: Silence[];
  more: boolean;
  all: Silence[];
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
  /** Flap detection: its colour keeps changing, its colour events are paused. */
  flapping?: boolean;
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
    flapping: p.flapping === true ? true : undefined,
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

export interface SummaryView {
  computers: { green: number; orange: number; red: number };
  partitions: { green: number; red: number };
  /** When the counts were taken (the master's last sweep). */
  asOf: string;
}

/** One page of a list: at most the `limit` asked, and where the next page starts (null: the last). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Where a page starts and how many items it holds (`limit` is always given: no unbounded read). */
export interface Window {
  limit: number;
  cursor?: string;
}

export interface PartitionFilter extends Window {
  colour?: 'green' | 'red';
  instanceTreeId?: string;
  computerId?: string;
  crimes?: true;
}

export interface TreeView {
  instanceTreeId: string;
  /** Of the whole tree, whatever the page. */
  colour: Colour;
  colourReason: string;
  partitions: Page<PartitionView>;
}

export type SearchKind = 'computer' | 'partition' | 'tree';

/** At most `limit` items, whatever the API answered: a page never holds more rows than asked. */
const page = <A, T>(items: A[], nextCursor: string | null, limit: number, view: (a: A) => T): Page<T> => ({
  items: items.slice(0, limit).map(view),
  nextCursor,
});

const notFound = (err: unknown) => err instanceof VigilApiError && err.status === 404;

/**
 * Reads the master API with the admin token: single items, the summary, and pages of lists,
 * every list read with a `limit` (a list is never read whole). Non-2xx → VigilApiError
 * (404 shows a 404 page).
 */
export class DashboardData {
  constructor(private readonly client: VigilClient) {}

  /** The fleet's colour counts (GET /v1/summary, a cost that does not grow with the fleet). */
  async summary(): Promise<SummaryView> {
    return this.client.summary();
  }

  async computers(q: Window & { colour?: Colour }): Promise<Page<ComputerView>> {
    const r = await this.client.listComputers({ limit: q.limit, cursor: q.cursor, colour: q.colour });
    return page(r.computers, r.nextCursor, q.limit, computerView);
  }

  async computer(id: string): Promise<ComputerView> {
    return computerView(await this.client.getComputer(id));
  }

  async partitions(q: PartitionFilter): Promise<Page<PartitionView>> {
    const r = await this.client.listPartitions(
      {
        limit: q.limit,
        cursor: q.cursor,
        colour: q.colour,
        instanceTreeId: q.instanceTreeId,
        computerId: q.computerId,
        crimes: q.crimes ? 'true' : undefined,
      },
    );
    return page(r.partitions, r.nextCursor, q.limit, partitionView);
  }

  /** One partition with its bang quota use today (the master's counter, as it enforces it). */
  async partition(id: string): Promise<PartitionView & { lastReport: LastReportSummary | null }> {
    const p = await this.client.getPartition(id);
    return { ...partitionView(p), lastReport: p.lastReport };
  }

  /** A tree: its colour and reason (of the whole tree) and one page of its partitions. */
  async tree(id: string, q: Window): Promise<TreeView> {
    const t = await this.client.getInstanceTree(id, { limit: q.limit, cursor: q.cursor });
    return { instanceTreeId: t.instanceTreeId, colour: t.colour, colourReason: t.colourReason, partitions: page(t.partitions, t.nextCursor, q.limit, partitionView) };
  }

  /** The latest result of every promise, and one page of reports (newest first) with the history in them. */
  async promises(partitionId: string, q: Window): Promise<PromisesView & { nextCursor: string | null }> {
    const r = await this.client.partitionPromises(partitionId, { limit: q.limit, cursor: q.cursor });
    const view = promisesView({ ...r, reports: r.reports.slice(0, q.limit) });
    return { ...view, nextCursor: r.nextCursor };
  }

  /** One page of the bang log, newest first. */
  async bangs(q: Window & { partitionId?: string }): Promise<Page<BangView>> {
    const r = await this.client.listBangs({ limit: q.limit, cursor: q.cursor, partitionId: q.partitionId });
    return page(r.bangs, r.nextCursor, q.limit, bangView);
  }

  /** One page of the recorded events, newest first, of a partition or a computer. */
  async events(q: Window & { partitionId?: string; computerId?: string }): Promise<Page<RecordedEvent>> {
    const r = await this.client.listEvents({ limit: q.limit, cursor: q.cursor, partitionId: q.partitionId, computerId: q.computerId });
    return page(r.events, r.nextCursor, q.limit, (e) => e);
  }

  async silences(q: Window): Promise<Page<Silence>> {
    const r = await this.client.listSilences({ limit: q.limit, cursor: q.cursor });
    return page(r.silences, r.nextCursor, q.limit, (s) => s);
  }

  async channels(q: Window): Promise<Page<Channel>> {
    const r = await this.client.listChannels({ limit: q.limit, cursor: q.cursor });
    return page(r.channels, r.nextCursor, q.limit, (c) => c);
  }

  /**
   * The active silences holding the notifications about `subject` (one page of the active
   * silences; `more` when there are more than that page). A master without notifications
   * (404) holds none.
   */
  async silencesHolding(subject: EventSubject): Promise<SilencedView> {
    try {
      const r = await this.client.listSilences({ active: 'true', limit: ACTIVE_SILENCES_READ });
      return { silences: silencesHolding(r.silences, subject), more: r.nextCursor !== null, all: r.silences };
    } catch (err) {
      if (err instanceof VigilApiError && err.status === 404) return { silences: [], more: false, all: [] };
      throw err;
    }
  }

  /** The page of an exact id, trying the kinds in the given order (one read each); null when none has it. */
  async find(id: string, kinds: readonly SearchKind[]): Promise<string | null> {
    for (const kind of kinds) {
      try {
        if (kind === 'computer') await this.client.getComputer(id);
        else if (kind === 'partition') await this.client.getPartition(id);
        else await this.client.getInstanceTree(id, { limit: 1 });
        return `/${kind === 'tree' ? 'trees' : `${kind}s`}/${encodeURIComponent(id)}`;
      } catch (err) {
        if (!notFound(err)) throw err;
      }
    }
    return null;
  }
}
