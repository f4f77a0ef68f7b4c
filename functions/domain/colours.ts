// Colour rules of SPEC §3, pure: the master's clock is passed in, never read here.
import type { Colour } from '../../protocol/index.ts';
import { REASON_DETAIL_MAX } from '../../protocol/limits.ts';

export const COMPUTER_GREEN_MS = 5 * 60_000;
export const COMPUTER_ORANGE_MS = 60 * 60_000;
export const DAY_SECONDS = 86_400;
export const DEFAULT_INSTANTIATION_FREQUENCY_SECONDS = 86_400;

/** The fixed colour reasons (the others are built below, with ages, names and messages). */
export const REASONS = {
  neverContacted: 'never contacted the master',
  /** Stored by a heartbeat that changes the computer's colour (GETs say "last contact … ago"). */
  inContact: 'in contact with the master',
  noReportYet: 'no report yet',
  allKept: 'all promises kept',
} as const;

export interface ColourVerdict {
  colour: Colour;
  reason: string;
  /** When this verdict changes by itself if nothing else happens (null = never). */
  nextChangeAt: Date | null;
  /** When the current colour started, when the rules can tell (else null). */
  since: Date | null;
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 72) return `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

/** Computer: green if it contacted the master < 5 min ago, orange if < 1 h, else red. */
export function computerColour(lastContactAt: Date | null, now: Date): ColourVerdict {
  if (!lastContactAt) return { colour: 'red', reason: REASONS.neverContacted, nextChangeAt: null, since: null };
  const age = now.getTime() - lastContactAt.getTime();
  const t = lastContactAt.getTime();
  if (age < COMPUTER_GREEN_MS) {
    return {
      colour: 'green',
      reason: `last contact ${formatAge(age)} ago`,
      nextChangeAt: new Date(t + COMPUTER_GREEN_MS),
      since: null,
    };
  }
  if (age < COMPUTER_ORANGE_MS) {
    return {
      colour: 'orange',
      reason: `no contact for ${formatAge(age)}`,
      nextChangeAt: new Date(t + COMPUTER_ORANGE_MS),
      since: new Date(t + COMPUTER_GREEN_MS),
    };
  }
  return {
    colour: 'red',
    reason: `no contact for ${formatAge(age)}`,
    nextChangeAt: null,
    since: new Date(t + COMPUTER_ORANGE_MS),
  };
}

/** min(1 day, SR periodicity, computer instantiation frequency), in seconds. */
export function partitionMaxReportAgeSeconds(srPeriodicitySeconds: number | null | undefined, computerFrequencySeconds: number | null | undefined): number {
  let max = DAY_SECONDS;
  if (srPeriodicitySeconds && srPeriodicitySeconds > 0) max = Math.min(max, srPeriodicitySeconds);
  if (computerFrequencySeconds && computerFrequencySeconds > 0) max = Math.min(max, computerFrequencySeconds);
  return max;
}

export interface PartitionColourInput {
  lastReport: {
    ok: boolean;
    error?: string | null;
    receivedAt: Date;
    failed: { name: string; message: string }[];
    /** Failed promises in the report (`failed` may list fewer); default failed.length. */
    failedCount?: number | undefined;
  } | null;
  lastBangAt: Date | null;
  maxReportAgeSeconds: number;
}

function clip(s: string, n = REASON_DETAIL_MAX): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

/**
 * Partition: green iff its latest report is OK, younger than the max age, and no bang came
 * after it; else red with a human reason.
 */
export function partitionColour(input: PartitionColourInput, now: Date): ColourVerdict {
  const r = input.lastReport;
  if (!r) return { colour: 'red', reason: REASONS.noReportYet, nextChangeAt: null, since: null };
  const recv = r.receivedAt.getTime();
  if (input.lastBangAt && input.lastBangAt.getTime() >= recv) {
    return {
      colour: 'red',
      reason: `bang at ${input.lastBangAt.toISOString()} after the last report`,
      nextChangeAt: null,
      since: input.lastBangAt,
    };
  }
  const firstFailed = r.failed[0];
  if (firstFailed) {
    const count = Math.max(r.failedCount ?? 0, r.failed.length);
    const more = count > 1 ? ` (and ${count - 1} more)` : '';
    return {
      colour: 'red',
      reason: `promise ${firstFailed.name} failed: ${clip(firstFailed.message)}${more}`,
      nextChangeAt: null,
      since: r.receivedAt,
    };
  }
  if (!r.ok) {
    return {
      colour: 'red',
      reason: `instantiation failed: ${clip(r.error || 'unknown error')}`,
      nextChangeAt: null,
      since: r.receivedAt,
    };
  }
  const expiresAt = recv + input.maxReportAgeSeconds * 1000;
  if (now.getTime() >= expiresAt) {
    return {
      colour: 'red',
      reason: `last report ${formatAge(now.getTime() - recv)} ago`,
      nextChangeAt: null,
      since: new Date(expiresAt),
    };
  }
  return { colour: 'green', reason: REASONS.allKept, nextChangeAt: new Date(expiresAt), since: r.receivedAt };
}

const RANK: Record<Colour, number> = { green: 0, orange: 1, red: 2 };

/** The worst of several colours (an instance tree is as bad as its worst partition). */
export function worstColour(colours: Iterable<Colour>): Colour {
  let worst: Colour = 'green';
  for (const c of colours) if (RANK[c] > RANK[worst]) worst = c;
  return worst;
}

export function colourRank(c: Colour): number {
  return RANK[c];
}

/** An instance tree: its worst partition's colour, and why (the first partition not green, in the given order). */
export function treeColour(partitions: readonly { partitionId: string; colour: Colour; colourReason: string }[]): {
  colour: Colour;
  colourReason: string;
} {
  const colour = worstColour(partitions.map((p) => p.colour));
  const bad = partitions.filter((p) => p.colour !== 'green');
  const first = bad[0];
  const colourReason = first
    ? `${bad.length} of ${partitions.length} partitions ${colour}; ${first.partitionId}: ${first.colourReason}`
    : `all ${partitions.length} partitions green`;
  return { colour, colourReason };
}

/**
 * An instance tree's colour from counts (its partitions are paged): red when any partition is
 * red, with the reason of the first red one among `candidates` (its colour at the request).
 */
export function treeColourOf(t: { total: number; red: number; candidates: readonly { partitionId: string; colour: Colour; colourReason: string }[] }): {
  colour: Colour;
  colourReason: string;
} {
  const first = t.candidates.find((p) => p.colour !== 'green');
  if (!first) return { colour: 'green', colourReason: `all ${t.total} partitions green` };
  const red = Math.max(1, t.red);
  return { colour: worstColour(t.candidates.map((p) => p.colour)), colourReason: `${red} of ${t.total} partitions red; ${first.partitionId}: ${first.colourReason}` };
}
