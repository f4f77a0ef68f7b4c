// The store interface the services use: one interface per entity, one Store of them all.
// The only way into the data: one implementation, DynamoDB (functions/store/dynamo.ts), run
// against AWS, DynamoDB Local or dynalite.
import type { Colour, LastReportSummary } from '../../protocol/index.ts';
import type { CrimeState } from '../domain/crimes.ts';
import type { NotifyStore } from './notify-types.ts';
import type { BangRecord, ColourFields, ComputerRecord, HistoryRecord, PartitionRecord, ReportRecord, SoftwareReleaseRecord } from '../domain/records.ts';

export interface ReportWrite {
  lastReport: LastReportSummary;
  lastReportKey: string;
  crimeState: CrimeState;
  colour: ColourFields;
  /** Set reprocessedUpTo to this value (only when larger than the stored one). */
  reprocessedUpTo: string | null;
  now: string;
}

/** A dashboard login session (functions/dashboard/sessions.ts). */
export interface SessionRecord {
  /** SHA-256 of the session id (the cookie holds the id itself). */
  sessionKey: string;
  /** HMAC-SHA256 of the id keyed with the admin token that opened the session. */
  mac: string;
  createdAt: string;
  /** TTL, epoch seconds. */
  expiresAt: number;
}

export type SweepItem = { type: 'computer'; record: ComputerRecord } | { type: 'partition'; record: PartitionRecord };

export interface Page<T> {
  items: T[];
  cursor?: string;
}

export interface PartitionRef {
  computerId: string;
  partitionId: string;
}

/** The colour a new item starts with (the domain's verdict for "nothing happened yet"). */
export interface InitialColour {
  colour: Colour;
  colourReason: string;
}

export type PutPartitionResult =
  | { created: boolean; record: PartitionRecord }
  | { missing: 'computer' | 'softwareRelease' };

export interface SoftwareReleaseStore {
  putSoftwareRelease(
    sr: { softwareReleaseId: string; url: string; periodicitySeconds: number | null; bangQuotaPerDay: number },
    now: string,
  ): Promise<{ created: boolean; record: SoftwareReleaseRecord }>;
  getSoftwareRelease(id: string): Promise<SoftwareReleaseRecord | null>;
  listSoftwareReleases(): Promise<SoftwareReleaseRecord[]>;
}

export interface ComputerStore {
  /** false when the computer already exists (nothing written). */
  createComputer(c: { computerId: string; tokenHash: string; instantiationFrequencySeconds: number } & InitialColour, now: string): Promise<boolean>;
  updateComputer(id: string, patch: { instantiationFrequencySeconds?: number }, now: string): Promise<ComputerRecord | null>;
  /** false when the computer does not exist. */
  setComputerToken(id: string, tokenHash: string, now: string): Promise<boolean>;
  getComputer(id: string): Promise<ComputerRecord | null>;
  listComputers(): Promise<ComputerRecord[]>;
  /** One strongly consistent Query: the computer and all its partitions. */
  getComputerWithPartitions(id: string): Promise<{ computer: ComputerRecord; partitions: PartitionRecord[] } | null>;
  /** One UpdateItem. `sweepAt`: the new sweep key, null = out of the index, undefined = unchanged. */
  recordHeartbeat(
    id: string,
    hb: { at: string; agentVersion: string; colour: Omit<ColourFields, 'sweepAt'> | null; sweepAt: string | null | undefined },
  ): Promise<void>;
  /** One BatchGetItem. */
  getComputerAndPartition(computerId: string, partitionId: string): Promise<{ computer: ComputerRecord | null; partition: PartitionRecord | null }>;
}

export interface PartitionStore {
  /** Creates (with `initial` colour) or updates a partition; a partition named on another computer moves there. */
  putPartition(
    p: { partitionId: string; computerId: string; instanceTreeId: string; softwareReleaseId: string },
    now: string,
    initial: InitialColour,
  ): Promise<PutPartitionResult>;
  getPartition(partitionId: string): Promise<PartitionRecord | null>;
  listPartitions(filter: { instanceTreeId?: string; computerId?: string }): Promise<PartitionRecord[]>;
  countTreePartitions(instanceTreeId: string): Promise<number>;
  pageTreePartitions(instanceTreeId: string, cursor?: string, limit?: number): Promise<Page<PartitionRef>>;
}

export interface ReportStore {
  /** One conditional UpdateItem; false when a newer (or the same) report is stored. */
  writeReport(computerId: string, partitionId: string, w: ReportWrite): Promise<boolean>;
  /** One conditional UpdateItem (for stale reports that still acknowledge a reprocess). */
  raiseReprocessedUpTo(computerId: string, partitionId: string, upTo: string): Promise<void>;
  /** One BatchWriteItem per 25 items (the report summary + one item per promise result). */
  putHistory(report: ReportRecord, items: HistoryRecord[]): Promise<void>;
  listHistory(partitionId: string, nowEpoch: number): Promise<{ results: HistoryRecord[]; reports: ReportRecord[] }>;
}

export interface BangStore {
  /** Atomically take one bang from today's quota; false when exhausted. */
  consumeBangQuota(partitionId: string, day: string, quota: number, expiresAt: number): Promise<boolean>;
  refundBangQuota(partitionId: string, day: string): Promise<void>;
  /** Bangs taken from the partition's quota of `day` (the counter consumeBangQuota enforces). */
  bangQuotaUsed(partitionId: string, day: string): Promise<number>;
  /** false when a bang with that id exists for that partition. */
  createBang(b: BangRecord): Promise<boolean>;
  getBang(partitionId: string, bangId: string): Promise<BangRecord | null>;
  /** Log a bang rejected by the quota (never fanned out; its id stays free). */
  recordRejectedBang(b: BangRecord): Promise<void>;
  completeBang(partitionId: string, bangId: string, fannedOutTo: number, at: string): Promise<void>;
  listBangs(filter: { partitionId?: string }, limit: number): Promise<BangRecord[]>;
  /** Record a bang on the banging partition itself (its colour turns red at once). */
  markBanged(computerId: string, partitionId: string, at: string): Promise<void>;
  /** Idempotent: false when this or a later request is already flagged or handled. */
  flagReprocess(ref: PartitionRef, flag: { requestedAt: string; reason: string; bangId: string }): Promise<boolean>;
}

export interface SweepStore {
  /** Items of the sparse sweep index due at or before `now`. */
  pageSweepDue(now: string, cursor?: string): Promise<Page<SweepItem>>;
  /** Conditional on the item still being due at the same time (no race with heartbeats). */
  recordColour(item: SweepItem, c: ColourFields): Promise<boolean>;
}

/** Single-item reads and writes of sessions (one PutItem, GetItem, DeleteItem). */
export interface SessionStore {
  createSession(s: SessionRecord): Promise<void>;
  getSession(sessionKey: string): Promise<SessionRecord | null>;
  deleteSession(sessionKey: string): Promise<void>;
}

export interface MaintenanceStore {
  /** Local emulation of DynamoDB TTL (dynalite has none); a Scan, never on a request path. */
  expireItems(nowEpoch: number): Promise<number>;
}

export interface Store extends SoftwareReleaseStore, ComputerStore, PartitionStore, ReportStore, BangStore, SweepStore, SessionStore, MaintenanceStore, NotifyStore {}
