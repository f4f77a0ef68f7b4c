// Size limits of the vigil protocol, shared by the agent and the master. Plain constants and
// one helper, no zod: the agent's thin bundles (and the vigil/promise export) import this
// module too. Every text the master keeps is cut to its END (what matters in a log).

/** A promise message, a bang message: the last MESSAGE_MAX characters are kept (SPEC §2). */
export const MESSAGE_MAX = 5000;

/** Body limit of every request to the master (413 above). */
export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * What the agent aims a report body at (it drops promise messages' heads, then promises, to
 * fit): under BODY_LIMIT_BYTES with room for the JSON envelope and headers.
 */
export const REPORT_FIT_BYTES = 240 * 1024;

/** A report's `error` (an instantiation failure): the master keeps its last characters (in the history). */
export const REPORT_ERROR_MAX = 2000;

/** The end of a report's `error` kept in the partition's `lastReport` (the partition item stays under 1 KB). */
export const SUMMARY_ERROR_MAX = 200;

/** The message of the first failed promise in a report summary (the partition's `lastReport.failed`). */
export const FAILED_SUMMARY_MESSAGE_MAX = 200;

/** Failed promises listed in a report summary at most. */
export const FAILED_SUMMARY_MAX = 10;

/** Bytes of names and messages of `lastReport.failed` (the first entry always kept). */
export const FAILED_SUMMARY_BYTES = 300;

/** The reprocess reason a bang gives every partition of its tree (its end). */
export const BANG_REASON_MAX = 200;

/** The detail (a promise message, an error) quoted in a colour reason, on one line. */
export const REASON_DETAIL_MAX = 300;

/** Items per page of a collection GET (`?limit=`): default and maximum (SPEC §3 "Fleet scale"). */
export const PAGE_LIMIT_DEFAULT = 100;
export const PAGE_LIMIT_MAX = 1000;

/** Upper bound of a duration in milliseconds (one year): larger numbers are bad input. */
export const MAX_DURATION_MS = 366 * 86_400_000;

/** The last `max` characters of `s` (all of it when shorter). */
export function keepEnd(s: string, max: number): string {
  return s.length > max ? s.slice(s.length - max) : s;
}
