// The store interface the app, fan-out and sweep use. One implementation: DynamoDB
// (functions/store/dynamo.ts), run against AWS, DynamoDB Local or dynalite.
import type { BangSource, Colour, LastReportSummary, PromiseResult, } from '../../protocol/index.ts';
import type { CrimeState } from '../domain/crimes.ts';

export interface SoftwareReleaseRecord {
  softwareReleaseId: string;
  url: string;
  periodicitySeconds: number | null;
  bangQuotaPerDay: number;
  createdAt: string;
  updatedAt: string;
}

export interface ColourFields {
  colour: Colour;
  colourReason: string;
  colourSince: string | null;
  /** When the sweep must look at this item again (sparse index), null = never. */
  sweepAt: string | null;
}

export interface ComputerRecord extends ColourFields {
  computerId: string;
  tokenHash: string;
  instantiationFrequencySeconds: number;
  lastContactAt: string | null;
  agentVersion: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface PartitionRecord extends ColourFields {
  partitionId: string;
  computerId: string;
  instanceTreeId: string;
  softwareReleaseId: string;
  /** Denormalized from the SR / computer so heartbeats and colours need no extra read. */
  periodicitySeconds: number | null;
  bangQuotaPerDay: number;
  computerFrequencySeconds: number;
  lastReport: LastReportSummary | null;
  /** `<startedAt ISO>#<reportId>`: orders reports; a smaller one never overwrites. */
  lastReportKey: string | null;
  reprocessRequestedAt: string | null;
  reprocessReason: string | null;
  reprocessBangId: string | null;
  /** The agent handled every reprocess request up to this time. */
  reprocessedUpTo: string | null;
  lastBangAt: string | null;
  crimeState: CrimeState | null;
  createdAt: string;
  updatedAt: string;
}

export interface BangRecord {
  bangId: string;
  partitionId: string;
  computerId: string;
  instanceTreeId: string;
  message: string;
  source: BangSource;
  createdAt: string;
  fannedOutTo: number;
  fanOut: 'pending' | 'done' | 'rejected';
  fanOutCompletedAt: string | null;
  accepted: boolean;
}

export interface ReportRecord extends LastReportSummary {
  partitionId: string;
  /** TTL, epoch seconds. */
  expiresAt: number;
}

export interface HistoryRecord extends PromiseResult {
  partitionId: string;
  /** TTL, epoch seconds. */
  expiresAt: number;
}

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

/** Single-item reads and writes of sessions (one PutItem, GetItem, DeleteItem). */
export interface SessionStore {
  createSession(s: SessionRecord): Promise<void>;
  getSession(sessionKey: string): Promise<SessionRecord | null>;
  deleteSession(sessionKey: string): Promise<void>;
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

export type PutPartitionResult =
  | { created: boolean; record: PartitionRecord }
  | { missing: 'computer' | 'softwareRelease' };

export interface Store extends SessionStore {
  putSoftwareRelease(
    sr: { softwareReleaseId: string; url: string; periodicitySeconds: number | null; bangQuotaPerDay: number },
    now: string,
  ): Promise<{ created: boolean; record: SoftwareReleaseRecord }>;
  getSoftwareRelease(id: string): Promise<SoftwareReleaseRecord | null>;
  listSoftwareReleases(): Promise<SoftwareReleaseRecord[]>;

  /** false when the computer already exists (nothing written). */
  createComputer(c: { computerId: string; tokenHash: string; instantiationFrequencySeconds: number }, now: string): Promise<boolean>;
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

  putPartition(p: { partitionId: string; computerId: string; instanceTreeId: string; softwareReleaseId: string }, now: string): Promise<PutPartitionResult>;
  getPartition(partitionId: string): Promise<PartitionRecord | null>;
  listPartitions(filter: { instanceTreeId?: string; computerId?: string }): Promise<PartitionRecord[]>;

  /** One conditional UpdateItem; false when a newer (or the same) report is stored. */
  writeReport(computerId: string, partitionId: string, w: ReportWrite): Promise<boolean>;
  /** One conditional UpdateItem (for stale reports that still acknowledge a reprocess). */
  raiseReprocessedUpTo(computerId: string, partitionId: string, upTo: string): Promise<void>;
  /** One BatchWriteItem per 25 items (the report summary + one item per promise result). */
  putHistory(report: ReportRecord, items: HistoryRecord[]): Promise<void>;
  listHistory(partitionId: string, nowEpoch: number): Promise<{ results: HistoryRecord[]; reports: ReportRecord[] }>;

  /** Atomically take one bang from today's quota; false when exhausted. */
  consumeBangQuota(partitionId: string, day: string, quota: number, expiresAt: number): Promise<boolean>;
  refundBangQuota(partitionId: string, day: string): Promise<void>;
  /** false when a bang with that id exists for that partition. */
  createBang(b: BangRecord): Promise<boolean>;
  getBang(partitionId: string, bangId: string): Promise<BangRecord | null>;
  /** Log a bang rejected by the quota (never fanned out; its id stays free). */
  recordRejectedBang(b: BangRecord): Promise<void>;
  completeBang(partitionId: string, bangId: string, fannedOutTo: number, at: string): Promise<void>;
  listBangs(filter: { partitionId?: string }, limit: number): Promise<BangRecord[]>;
  /** Record a bang on the banging partition itself (its colour turns red at once). */
  markBanged(computerId: string, partitionId: string, at: string): Promise<void>;

  countTreePartitions(instanceTreeId: string): Promise<number>;
  pageTreePartitions(instanceTreeId: string, cursor?: string, limit?: number): Promise<Page<PartitionRef>>;
  /** Idempotent: false when this or a later request is already flagged or handled. */
  flagReprocess(ref: PartitionRef, flag: { requestedAt: string; reason: string; bangId: string }): Promise<boolean>;

  /** Items of the sparse sweep index due at or before `now`. */
  pageSweepDue(now: string, cursor?: string): Promise<Page<SweepItem>>;
  /** Conditional on the item still being due at the same time (no race with heartbeats). */
  recordColour(item: SweepItem, c: ColourFields, now: string): Promise<boolean>;

  /** Local emulation of DynamoDB TTL (dynalite has none); a Scan, never on a request path. */
  expireItems(nowEpoch: number): Promise<number>;
}
