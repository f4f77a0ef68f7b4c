// The master's entities as records: what the store keeps and the domain rules read. Plain
// data (ISO strings for times), no I/O; the wire views of them are in functions/views.ts.
import type { BangSource, Colour, LastReportSummary, PromiseReport } from '../../protocol/index.ts';
import type { CrimeState } from './crimes.ts';

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

/**
 * What the master keeps per partition for notifications (SPEC §3 "Notifications"; a few
 * bytes on the partition item): the flap detector's window and state, and what receivers
 * were last told. Derived and used by functions/notify/derive.ts.
 */
export interface PartitionNotifyState {
  /** Flap detection: the last 21 recorded states, one of g/o/r each, oldest first. */
  flapHistory: string;
  flapping: boolean;
  /** When the last state was recorded (ISO): the sweep samples flapping partitions from it. */
  sampledAt: string | null;
  /** The colour receivers were last told (null: never told anything, taken as green). */
  announced: Colour | null;
}

export function initialPartitionNotifyState(): PartitionNotifyState {
  return { flapHistory: '', flapping: false, sampledAt: null, announced: null };
}

export interface ComputerRecord extends ColourFields {
  computerId: string;
  /** SHA-256 (hex) of its token. */
  tokenHash: string;
  instantiationFrequencySeconds: number;
  lastContactAt: string | null;
  agentVersion: string | null;
  /** Bumped whenever what its heartbeat answers in `partitions` changes (heartbeats cache it by this version). */
  assignmentVersion: number;
  /** Raised (by fan-out) after a partition of it was flagged for reprocess; 0 = nothing to look at. */
  reprocessHint: number;
  /**
   * Events of its last recorded colour change not known to be routed yet (set by the write
   * that records the change, cleared once they are routed; docs/notifications.md).
   */
  notifyPending: string[];
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
  /** `<startedAt ISO>#<reportId>`: orders reports; a smaller one never overwrites (also its history key). */
  lastReportKey: string | null;
  /** The history key of the latest report of the other kind (instantiation / anomaly) than the last report's. */
  otherKindReportKey: string | null;
  reprocessRequestedAt: string | null;
  reprocessReason: string | null;
  reprocessBangId: string | null;
  /** The agent handled every reprocess request up to this time. */
  reprocessedUpTo: string | null;
  lastBangAt: string | null;
  crimeState: CrimeState | null;
  notify: PartitionNotifyState;
  /** As ComputerRecord.notifyPending. */
  notifyPending: string[];
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

/** One report as kept in the history: its summary and every promise result it carried. */
export interface ReportHistoryRecord {
  partitionId: string;
  summary: LastReportSummary;
  results: PromiseReport[];
  /** TTL, epoch seconds. */
  expiresAt: number;
}
