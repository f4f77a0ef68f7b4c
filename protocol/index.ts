// Wire schemas of the vigil HTTP API (SPEC §3), shared by the master and the agent.
// Plain `zod` only: this module is bundled into the agent, which must stay thin.
// GET /openapi.json is generated from these schemas, so the document cannot drift.
import { z } from 'zod';
import { BODY_LIMIT_BYTES, MAX_DURATION_MS, MESSAGE_MAX, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX, REPORT_ERROR_MAX } from './limits.ts';

export { BODY_LIMIT_BYTES, MAX_DURATION_MS, MESSAGE_MAX, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX };

/** The characters of an identifier (the agent also uses it to tell partition directories). */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

/** Identifiers of computers, partitions, trees, software releases, reports and bangs. */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 . _ : @ - starting with a letter or digit');
export type Id = z.infer<typeof Id>;

/** An ISO-8601 timestamp (with offset or Z). */
export const IsoDate = z.iso.datetime({ offset: true });

export const Colour = z.enum(['green', 'orange', 'red']);
export type Colour = z.infer<typeof Colour>;

// ---------------------------------------------------------------- paging (SPEC §3 "Fleet scale")
/** `?limit=&cursor=` of every collection GET. */
export const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(PAGE_LIMIT_MAX)
    .optional()
    .describe(`items per page (default ${PAGE_LIMIT_DEFAULT}, at most ${PAGE_LIMIT_MAX})`),
  cursor: z.string().min(1).max(2048).optional().describe('the nextCursor of the previous page (opaque)'),
});
export type PageQuery = z.infer<typeof PageQuery>;
/** Every page names where the next one starts; null on the last page. */
export const NextCursor = z.string().nullable().describe('pass as ?cursor= to get the next page; null on the last page');

export const ErrorBody = z.object({
  error: z.string().describe('machine-readable code, e.g. bad_request, unauthorized, forbidden, not_found'),
  message: z.string().describe('what is wrong, naming the field for bad input'),
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

// ---------------------------------------------------------------- software releases
export const SoftwareReleasePut = z.object({
  url: z.string().min(1).max(2048),
  periodicitySeconds: z.number().int().positive().max(366 * 86400).optional(),
  bangQuotaPerDay: z.number().int().min(0).max(100_000).optional(),
});
export type SoftwareReleasePut = z.infer<typeof SoftwareReleasePut>;

export const SoftwareRelease = z.object({
  softwareReleaseId: Id,
  url: z.string(),
  periodicitySeconds: z.number().int().nullable(),
  bangQuotaPerDay: z.number().int(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});
export type SoftwareRelease = z.infer<typeof SoftwareRelease>;
export const SoftwareReleaseList = z.object({ softwareReleases: z.array(SoftwareRelease), nextCursor: NextCursor });
export type SoftwareReleaseList = z.infer<typeof SoftwareReleaseList>;

// ---------------------------------------------------------------- computers
export const ComputerPut = z.object({
  instantiationFrequencySeconds: z.number().int().positive().max(366 * 86400).optional(),
});
export type ComputerPut = z.infer<typeof ComputerPut>;

/** 201 on first PUT and on POST .../token: the token is shown only here. */
export const ComputerToken = z.object({ computerId: Id, token: z.string() });
export type ComputerToken = z.infer<typeof ComputerToken>;

export const Computer = z.object({
  computerId: Id,
  instantiationFrequencySeconds: z.number().int(),
  lastContactAt: IsoDate.nullable(),
  agentVersion: z.string().nullable(),
  colour: Colour,
  colourReason: z.string(),
  colourSince: IsoDate.nullable(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});
export type Computer = z.infer<typeof Computer>;
export const ComputerList = z.object({ computers: z.array(Computer), nextCursor: NextCursor });
/** GET /v1/computers filters (with paging). */
export const ComputerListQuery = PageQuery.extend({ colour: Colour.optional().describe('only computers of this colour') });
export type ComputerListQuery = z.infer<typeof ComputerListQuery>;
export type ComputerList = z.infer<typeof ComputerList>;

// ---------------------------------------------------------------- partitions
export const PartitionPut = z.object({
  computerId: Id,
  instanceTreeId: Id,
  softwareReleaseId: Id,
});
export type PartitionPut = z.infer<typeof PartitionPut>;

export const ReportKind = z.enum(['instantiation', 'anomaly']);
export type ReportKind = z.infer<typeof ReportKind>;

export const LastReportSummary = z.object({
  reportId: Id,
  kind: ReportKind,
  startedAt: IsoDate,
  durationMs: z.number(),
  ok: z.boolean(),
  error: z.string().nullable(),
  receivedAt: IsoDate,
  promiseCount: z.number().int(),
  failed: z
    .array(z.object({ name: z.string(), message: z.string() }))
    .describe('failed promises, first first, within a size budget: the first with its message (its end), then names (message empty) while they fit'),
  failedCount: z.number().int().optional().describe('how many promises failed in the report (failed may list fewer)'),
});
export type LastReportSummary = z.infer<typeof LastReportSummary>;

export const Reprocess = z.object({
  partitionId: Id,
  requestedAt: IsoDate,
  reason: z.string(),
});
export type Reprocess = z.infer<typeof Reprocess>;

export const Crime = z.object({
  code: z.enum(['promise-never-passes', 'slow-instantiation', 'all-promises-every-minute', 'instantiation-never-sleeps']),
  message: z.string(),
});
export type Crime = z.infer<typeof Crime>;

export const Partition = z.object({
  partitionId: Id,
  computerId: Id,
  instanceTreeId: Id,
  softwareReleaseId: Id,
  periodicitySeconds: z.number().int().nullable(),
  colour: Colour,
  colourReason: z.string(),
  colourSince: IsoDate.nullable(),
  lastReport: LastReportSummary.nullable(),
  reprocess: Reprocess.nullable(),
  lastBangAt: IsoDate.nullable(),
  crimes: z.array(Crime),
  flapping: z.boolean().optional().describe('its colour keeps changing (flap detection): its colour events are paused until it is stable'),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});
export type Partition = z.infer<typeof Partition>;
export const PartitionList = z.object({ partitions: z.array(Partition), nextCursor: NextCursor });
/** GET /v1/partitions filters; they combine with each other and with paging. */
export const PartitionListQuery = PageQuery.extend({
  instanceTreeId: Id.optional(),
  computerId: Id.optional(),
  colour: Colour.optional().describe('only partitions of this colour (partitions are green or red)'),
  crimes: z.enum(['true']).optional().describe('true: only partitions with at least one monitoring crime'),
});
export type PartitionListQuery = z.infer<typeof PartitionListQuery>;

/** One partition (GET /v1/partitions/{id}): with its bang quota use of today (UTC). */
export const PartitionDetail = Partition.extend({
  bangsToday: z.number().int().describe('bangs taken from the daily quota today (UTC day): the counter the master enforces'),
  bangQuotaPerDay: z.number().int().describe('the daily bang quota of its software release'),
});
export type PartitionDetail = z.infer<typeof PartitionDetail>;
export type PartitionList = z.infer<typeof PartitionList>;

export const InstanceTree = z.object({
  instanceTreeId: Id,
  colour: Colour.describe('of the whole tree, whatever the page'),
  colourReason: z.string(),
  partitions: z.array(Partition).describe('one page of the partitions of the tree'),
  nextCursor: NextCursor,
});
export type InstanceTree = z.infer<typeof InstanceTree>;

// ---------------------------------------------------------------- heartbeat
export const HeartbeatRequest = z.object({ agentVersion: z.string().min(1).max(200) });
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatPartition = z.object({
  partitionId: Id,
  instanceTreeId: Id,
  softwareReleaseId: Id,
  periodicitySeconds: z.number().int().nullable(),
});
export type HeartbeatPartition = z.infer<typeof HeartbeatPartition>;

export const HeartbeatResponse = z.object({
  serverTime: IsoDate,
  instantiationFrequencySeconds: z.number().int().optional().describe("the computer's instantiation frequency"),
  reprocess: z.array(Reprocess),
  partitions: z.array(HeartbeatPartition),
});
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

// ---------------------------------------------------------------- reports
export const PromiseKind = z.enum(['test', 'anomaly']);
export type PromiseKind = z.infer<typeof PromiseKind>;

export const PromiseReport = z.object({
  name: z.string().min(1).max(255).describe('promise file name'),
  title: z.string().min(1).max(255).describe('file name without extension'),
  kind: PromiseKind,
  failed: z.boolean(),
  message: z.string().describe(`any length within the body limit; the master keeps the last ${MESSAGE_MAX} characters`),
  date: IsoDate,
  executionTimeMs: z.number().min(0).max(MAX_DURATION_MS),
  periodicityMinutes: z.number().positive().max(366 * 1440).optional().describe('optional: the promise periodicity, used to flag crimes'),
});
export type PromiseReport = z.infer<typeof PromiseReport>;

export const ReportRequest = z.object({
  reportId: Id,
  kind: ReportKind,
  startedAt: IsoDate,
  durationMs: z.number().min(0).max(MAX_DURATION_MS),
  ok: z.boolean(),
  error: z.string().optional().describe(`the master keeps the last ${REPORT_ERROR_MAX} characters`),
  promises: z.array(PromiseReport).max(1000),
  reprocessedUpTo: IsoDate.optional().describe('requestedAt of the reprocess flag this run handled: clears it'),
});
export type ReportRequest = z.infer<typeof ReportRequest>;

/** How far ahead of the master's clock a report's dates may be before they are clamped. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

export const ReportWarning = z.object({
  field: z.string().describe('the field concerned, e.g. body.startedAt, body.promises.3.date, body.promises.0.name'),
  code: z
    .enum(['clamped_future_date', 'duplicate_promise_name'])
    .describe(
      `clamped_future_date: the date was more than ${MAX_CLOCK_SKEW_SECONDS} s ahead of the master's clock and was recorded as the master's now; ` +
        'duplicate_promise_name: a later entry of the report has the same promise name, only the last entry of each name is kept',
    ),
  message: z.string(),
});
export type ReportWarning = z.infer<typeof ReportWarning>;

export const ReportResponse = z.object({
  reportId: Id,
  status: z.enum(['accepted', 'duplicate', 'stale']).describe('stale: older than the stored report, kept in history only'),
  warnings: z.array(ReportWarning).optional().describe('what the master changed in the report to record it (absent when nothing)'),
});
export type ReportResponse = z.infer<typeof ReportResponse>;

export const PromiseResult = PromiseReport.extend({ reportId: Id, receivedAt: IsoDate });
export type PromiseResult = z.infer<typeof PromiseResult>;

export const PromiseHistory = z.object({
  name: z.string(),
  title: z.string(),
  latest: PromiseResult,
  history: z.array(PromiseResult).describe('newest first'),
});
export type PromiseHistory = z.infer<typeof PromiseHistory>;

export const PartitionPromises = z.object({
  partitionId: Id,
  promises: z.array(PromiseHistory).describe('every promise of the latest report (on every page), with its history within this page'),
  reports: z.array(LastReportSummary).describe('one page of the reports, newest first'),
  nextCursor: NextCursor,
});
export type PartitionPromises = z.infer<typeof PartitionPromises>;

// ---------------------------------------------------------------- bangs
export const BangSource = z.enum(['promise', 'watchdog', 'manual']);
export type BangSource = z.infer<typeof BangSource>;

export const BangRequest = z.object({
  bangId: Id,
  message: z.string().describe(`the master keeps the last ${MESSAGE_MAX} characters`),
  source: BangSource,
});
export type BangRequest = z.infer<typeof BangRequest>;

export const BangResponse = z.object({
  bangId: Id,
  fannedOutTo: z.number().int().describe('number of partitions of the instance tree flagged for reprocess'),
});
export type BangResponse = z.infer<typeof BangResponse>;

export const Bang = z.object({
  bangId: Id,
  partitionId: Id,
  computerId: Id,
  instanceTreeId: Id,
  message: z.string(),
  source: BangSource,
  createdAt: IsoDate,
  fannedOutTo: z.number().int(),
  fanOut: z.enum(['pending', 'done', 'rejected']),
  fanOutCompletedAt: IsoDate.nullable(),
  accepted: z.boolean().describe('false: rejected by the daily quota (429), nothing fanned out'),
});
export type Bang = z.infer<typeof Bang>;
export const BangList = z.object({ bangs: z.array(Bang), nextCursor: NextCursor });
export const BangListQuery = PageQuery.extend({ partitionId: Id.optional() });
export type BangListQuery = z.infer<typeof BangListQuery>;

// ---------------------------------------------------------------- summary
/** GET /v1/summary: colour counts of the fleet, at a cost that does not grow with it (may lag by one sweep). */
export const Summary = z.object({
  computers: z.object({ green: z.number().int(), orange: z.number().int(), red: z.number().int() }),
  partitions: z.object({ green: z.number().int(), red: z.number().int() }),
  asOf: IsoDate.describe('when these counts were taken (the last sweep)'),
});
export type Summary = z.infer<typeof Summary>;
export type BangList = z.infer<typeof BangList>;

// ---------------------------------------------------------------- misc
export const Health = z.object({ status: z.literal('ok'), time: IsoDate });
export type Health = z.infer<typeof Health>;
