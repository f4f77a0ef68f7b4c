// The minute sweep: records colour transitions (colour, colourSince) and the fleet summary.
// - Computers: it reads the whole computer collection (small items, eventually consistent,
//   about 1 read unit per 8 computers), so heartbeats write no index at all.
// - Partitions: it reads only the sparse sweep index up to now (keys kept lazily, never later
//   than the real change), so on a quiet fleet it reads next to nothing.
// - The summary: computers counted from its read, partitions red from the red index, written
//   as one item that GET /v1/summary reads.
import type { Colour } from '../../protocol/index.ts';
import { computerVerdict, nextColourFields, partitionVerdict } from '../domain/transitions.ts';
import type { FleetSummaryRecord } from '../store/types.ts';
import type { ServiceDeps } from './deps.ts';

export type SweepDeps = Pick<ServiceDeps, 'store'>;

export interface SweepTransition {
  type: 'computer' | 'partition';
  id: string;
  from: Colour;
  to: Colour;
  reason: string;
}

export interface SweepResult {
  /** Items looked at: every computer, and the partitions due. */
  examined: number;
  /** Items whose colour changed. */
  changed: number;
  transitions: SweepTransition[];
  summary: Omit<FleetSummaryRecord, 'partitionsTotal'>;
}

/** Computers read per page of the sweep. */
const COMPUTER_PAGE = 1000;

/** Every computer's colour at `now` (recording changes when `record`), counted. */
async function sweepComputers(deps: SweepDeps, now: Date, record: SweepResult | null): Promise<FleetSummaryRecord['computers']> {
  const counts = { green: 0, orange: 0, red: 0 };
  let cursor: string | undefined;
  do {
    const page = await deps.store.listComputers({ limit: COMPUTER_PAGE, cursor });
    for (const c of page.items) {
      const v = computerVerdict(c, now);
      counts[v.colour]++;
      if (!record) continue;
      record.examined++;
      if (v.colour === c.colour) continue;
      const { sweepAt: _none, ...fields } = nextColourFields(c, v, now);
      if (await deps.store.recordComputerColour(c.computerId, fields, c.lastContactAt)) {
        record.changed++;
        record.transitions.push({ type: 'computer', id: c.computerId, from: c.colour, to: v.colour, reason: v.reason });
      }
    }
    cursor = page.next ?? undefined;
  } while (cursor);
  return counts;
}

async function sweepPartitions(deps: SweepDeps, now: Date, result: SweepResult): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await deps.store.pageSweepDue(now.toISOString(), cursor);
    for (const p of page.items) {
      result.examined++;
      const v = partitionVerdict(p, now);
      const { sweepAt, ...fields } = nextColourFields(p, v, now);
      const ok = await deps.store.recordPartitionColour(p, fields, sweepAt);
      if (ok && fields.colour !== p.colour) {
        result.changed++;
        result.transitions.push({ type: 'partition', id: p.partitionId, from: p.colour, to: fields.colour, reason: fields.colourReason });
      }
    }
    cursor = page.next ?? undefined;
  } while (cursor);
}

export async function runSweep(deps: SweepDeps, now: Date): Promise<SweepResult> {
  const result: SweepResult = { examined: 0, changed: 0, transitions: [], summary: { computers: { green: 0, orange: 0, red: 0 }, partitionsRed: 0, asOf: now.toISOString() } };
  const computers = await sweepComputers(deps, now, result);
  await sweepPartitions(deps, now, result);
  result.summary = { computers, partitionsRed: await deps.store.countRedPartitions(), asOf: now.toISOString() };
  await deps.store.putSummary(result.summary);
  return result;
}

/** The summary as the sweep would write it, without recording colours (before the first sweep). */
export async function refreshSummary(deps: SweepDeps, now: Date): Promise<FleetSummaryRecord> {
  const computers = await sweepComputers(deps, now, null);
  const summary = { computers, partitionsRed: await deps.store.countRedPartitions(), asOf: now.toISOString() };
  await deps.store.putSummary(summary);
  return { ...summary, partitionsTotal: (await deps.store.getSummary())?.partitionsTotal ?? 0 };
}
