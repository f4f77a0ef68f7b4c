// The store interface the services use: one interface per entity, one Store of them all.
// The only way into the data: one implementation, DynamoDB (functions/store/dynamo.ts), run
// against AWS, DynamoDB Local or dynalite.
import type { Colour, HeartbeatPartition, LastReportSummary } from '../../protocol/index.ts';
import type { CrimeState } from '../domain/crimes.ts';
import type { NotifyStore } from './notify-types.ts';
import type { BangRecord, ColourFields, ComputerRecord, PartitionRecord, ReportHistoryRecord, SoftwareReleaseRecord } from '../domain/records.ts';

/** `?limit=&cursor=` of a list, as the store takes it (limit already defaulted and bounded). */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

/**
 * Decides, item by item in list order, what a page does with a record: `take` it, `skip`
 * it (a filter), or `stop` the page before it (a size budget; the next page starts with it).
 * A page always takes its first candidate.
 */
export type Accept<T> = (item: T) => 'take' | 'skip' | 'stop';

/** A page of a list: `next` is the cursor of the next page, null on the last one. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** A list's page request with its item filter. */
export interface ListRequest<T> extends PageRequest {
  accept?: Accept<T> | undefined;
  /** `accept` skips items (a filter): the page reads ahead (else it reads only what it can take). */
  filtered?: boolean | undefined;
}

export interface ReportWrite {
  lastReport: LastReportSummary;
  lastReportKey: string;
  otherKindReportKey: string | null;
  crimeState: CrimeState;
  /** Whether the partition has crimes after this report (the sparse crimes index). */
  hasCrimes: boolean;
  colour: Omit<ColourFields, 'sweepAt'>;
  /** The new sweep key; undefined: keep the stored one (lazy). */
  sweepAt: string | undefined;
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

/** Filters of the partition list the store serves from its indexes (the colour at request time is the service's). */
export interface PartitionFilter {
  instanceTreeId?: string | undefined;
  computerId?: string | undefined;
  /** Only partitions recorded red (the red index). */
  recordedRed?: boolean | undefined;
  /** Only partitions with monitoring crimes (the crimes index). */
  crimes?: boolean | undefined;
}

/** A heartbeat's contact: written only when the token hash matches. */
export type ContactOutcome =
  /** Recorded; `before`: the computer as it was. */
  | { outcome: 'recorded'; before: ComputerRecord }
  /** Refused (no such computer, or another token): `tokenHash` of the computer when known. */
  | { outcome: 'refused'; exists: boolean | null; tokenHash: string | null };

/** The fleet's counts, written by the sweep (GET /v1/summary). */
export interface FleetSummaryRecord {
  computers: { green: number; orange: number; red: number };
  /** Partitions recorded red (the red index). */
  partitionsRed: number;
  /** Partitions registered (a counter). */
  partitionsTotal: number;
  asOf: string;
}

export interface SoftwareReleaseStore {
  putSoftwareRelease(
    sr: { softwareReleaseId: string; url: string; periodicitySeconds: number | null; bangQuotaPerDay: number },
    now: string,
  ): Promise<{ created: boolean; record: SoftwareReleaseRecord }>;
  getSoftwareRelease(id: string): Promise<SoftwareReleaseRecord | null>;
  listSoftwareReleases(page: ListRequest<SoftwareReleaseRecord>): Promise<Page<SoftwareReleaseRecord>>;
}

export interface ComputerStore {
  /** false when the computer already exists (nothing written). */
  createComputer(c: { computerId: string; tokenHash: string; instantiationFrequencySeconds: number } & InitialColour, now: string): Promise<boolean>;
  updateComputer(id: string, patch: { instantiationFrequencySeconds?: number }, now: string): Promise<ComputerRecord | null>;
  /** false when the computer does not exist. */
  setComputerToken(id: string, tokenHash: string, now: string): Promise<boolean>;
  /** Strongly consistent unless told. */
  getComputer(id: string, consistent?: boolean): Promise<ComputerRecord | null>;
  /** Sorted by id. Eventually consistent. */
  listComputers(page: ListRequest<ComputerRecord>): Promise<Page<ComputerRecord>>;
  /** ONE conditional UpdateItem: the contact and agent version, only if the token hash matches. */
  recordContact(id: string, c: { tokenHash: string; at: string; agentVersion: string }): Promise<ContactOutcome>;
  /** A colour change of a computer (heartbeat, sweep), conditional on its last contact being `seenContactAt`. */
  recordComputerColour(id: string, c: Omit<ColourFields, 'sweepAt'>, seenContactAt: string | null): Promise<boolean>;
  /** What a computer's heartbeat answers in `partitions`, at its assignment version (cached by version; else one strongly consistent Query). */
  getAssignments(computerId: string, version: number): Promise<HeartbeatPartition[]>;
  /** The computer's partitions (strongly consistent Query); refreshes the assignment cache at `version`. */
  getComputerPartitions(computerId: string, version: number): Promise<PartitionRecord[]>;
  /** Clears the reprocess hint if it is still `seen` (false: a newer flag raised it meanwhile). */
  clearReprocessHint(computerId: string, seen: number): Promise<boolean>;
  /** One BatchGetItem (eventually consistent unless told). */
  getComputerAndPartition(
    computerId: string,
    partitionId: string,
    consistent?: boolean,
  ): Promise<{ computer: ComputerRecord | null; partition: PartitionRecord | null }>;
  /** A partition of a known computer (one GetItem, eventually consistent unless told). */
  getComputerPartition(computerId: string, partitionId: string, consistent?: boolean): Promise<PartitionRecord | null>;
}

export interface PartitionStore {
  /** Creates (with `initial` colour) or updates a partition; a partition named on another computer moves there. */
  putPartition(
    p: { partitionId: string; computerId: string; instanceTreeId: string; softwareReleaseId: string },
    now: string,
    initial: InitialColour,
  ): Promise<PutPartitionResult>;
  getPartition(partitionId: string): Promise<PartitionRecord | null>;
  /** Sorted by partition id (by tree then partition with `recordedRed`). */
  listPartitions(filter: PartitionFilter, page: ListRequest<PartitionRecord>): Promise<Page<PartitionRecord>>;
  countTreePartitions(instanceTreeId: string): Promise<number>;
  /** The partitions of a tree recorded red: how many, and the first. */
  treeRed(instanceTreeId: string): Promise<{ count: number; first: PartitionRecord | null }>;
  pageTreePartitions(instanceTreeId: string, cursor?: string, limit?: number): Promise<Page<PartitionRef>>;
}

export interface ReportStore {
  /** One conditional UpdateItem, expecting the stored report key to be `expectedKey`: false when it is not (a newer report, or a race). */
  writeReport(p: PartitionRecord, w: ReportWrite, expectedKey: string | null): Promise<boolean>;
  /** A report older than the stored one: raise reprocessedUpTo, and the other kind's key when this report is its latest. */
  recordStaleReport(p: PartitionRecord, s: { reprocessedUpTo: string | null; kind: LastReportSummary['kind']; reportKey: string }): Promise<void>;
  /** One PutItem: the report and every promise result. */
  putHistory(h: ReportHistoryRecord, reportKey: string): Promise<void>;
  /** The reports of a partition, newest first. */
  listHistory(partitionId: string, page: ListRequest<ReportHistoryRecord>): Promise<Page<ReportHistoryRecord>>;
  /** Reports by key (missing or expired ones left out). */
  getHistory(partitionId: string, reportKeys: string[]): Promise<ReportHistoryRecord[]>;
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
  /** Newest first. */
  listBangs(filter: { partitionId?: string | undefined }, page: ListRequest<BangRecord>): Promise<Page<BangRecord>>;
  /** Record a bang on the banging partition itself (its colour turns red at once). */
  markBanged(computerId: string, partitionId: string, at: string): Promise<void>;
  /** Idempotent: false when this or a later request is already flagged or handled. */
  flagReprocess(ref: PartitionRef, flag: { requestedAt: string; reason: string; bangId: string }): Promise<boolean>;
  /** After flagging partitions of a computer: its heartbeats look at their flags until none is pending. */
  raiseReprocessHint(computerId: string): Promise<void>;
}

export interface SweepStore {
  /** Partitions whose sweep key is due at or before `now` (eventually consistent). */
  pageSweepDue(now: string, cursor?: string): Promise<Page<PartitionRecord>>;
  /**
   * The colour the sweep found, and its next key (null: out of the sweep index), conditional
   * on the partition being as read (same sweep key and last report).
   */
  recordPartitionColour(p: PartitionRecord, c: Omit<ColourFields, 'sweepAt'>, sweepAt: string | null): Promise<boolean>;
  /** Partitions recorded red (a COUNT of the red index). */
  countRedPartitions(): Promise<number>;
  putSummary(s: Omit<FleetSummaryRecord, 'partitionsTotal'>): Promise<void>;
  getSummary(): Promise<FleetSummaryRecord | null>;
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
