// The minute sweep: records colour transitions (colour, colourSince) and the fleet summary.
// - Computers: it reads the whole computer collection (small items, eventually consistent,
//   about 1 read unit per 8 computers), so heartbeats write no index at all.
// - Partitions: it reads only the sparse sweep index up to now (keys kept lazily, never later
//   than the real change), so on a quiet fleet it reads next to nothing.
// - The summary: computers counted from its read, partitions red from the red index, written
//   as one item that GET /v1/summary reads.
// - Notifications: every colour change it records has its events (services/notify-changes.ts:
//   one computer.colour event per computer, listing its partitions; the partitions' own
//   events held back while their computer is not green), and it samples flapping partitions
//   (at least every FLAP_SAMPLE_INTERVAL_MS) so that a partition gone quiet stops flapping.
import type { Colour } from '../../protocol/index.ts';
import { FLAP_SAMPLE_INTERVAL_MS, nextFlapSampleAt } from '../domain/flapping.ts';
import type { PartitionRecord } from '../domain/records.ts';
import { bangInProgress } from '../domain/reprocess.ts';
import { computerVerdict, nextColourFields, partitionVerdict } from '../domain/transitions.ts';
import type { FleetSummaryRecord } from '../store/types.ts';
import type { ServiceDeps } from './deps.ts';
import { type NotifySession, notifySession, observePartitionChange, recordComputerChange, recordWithEvents } from './notify-changes.ts';

export type SweepDeps = Pick<ServiceDeps, 'store'> & Partial<Pick<ServiceDeps, 'notify' | 'logError'>>;

/** One run: the clock, the event path's reads (once), the computers' colours as swept. */
interface SweepRun {
  deps: Pick<ServiceDeps, 'store' | 'now' | 'notify' | 'logError'>;
  now: Date;
  session: NotifySession;
  computerColours: Map<string, Colour>;
}

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
async function sweepComputers(deps: SweepDeps, now: Date, record: SweepResult | null, run?: SweepRun): Promise<FleetSummaryRecord['computers']> {
  const counts = { green: 0, orange: 0, red: 0 };
  let cursor: string | undefined;
  do {
    const page = await deps.store.listComputers({ limit: COMPUTER_PAGE, cursor });
    for (const c of page.items) {
      const v = computerVerdict(c, now);
      counts[v.colour]++;
      run?.computerColours.set(c.computerId, v.colour);
      if (!record || !run) continue;
      record.examined++;
      if (v.colour === c.colour) continue;
      const { sweepAt: _none, ...fields } = nextColourFields(c, v, now);
      if (await recordComputerChange(run.deps, run.session, c, fields, c.lastContactAt, now)) {
        record.changed++;
        record.transitions.push({ type: 'computer', id: c.computerId, from: c.colour, to: v.colour, reason: v.reason });
      }
    }
    cursor = page.next ?? undefined;
  } while (cursor);
  return counts;
}

const earliest = (a: string | null, b: Date | null): string | null => (b && (!a || b.toISOString() < a) ? b.toISOString() : a);

/** Records a due partition's colour: with an observation (its events) when it changed or a flap sample is due. */
async function sweepPartition(run: SweepRun, p: PartitionRecord, v: ReturnType<typeof partitionVerdict>): Promise<boolean> {
  const { deps, now } = run;
  const { sweepAt, ...fields } = nextColourFields(p, v, now);
  const sampledAt = p.notify.sampledAt ? new Date(p.notify.sampledAt) : null;
  const sampleDue = p.notify.flapping && (!sampledAt || sampledAt.getTime() + FLAP_SAMPLE_INTERVAL_MS <= now.getTime());
  if (fields.colour === p.colour && !sampleDue) {
    return deps.store.recordPartitionColour(p, fields, earliest(sweepAt, nextFlapSampleAt(p.notify.flapping, sampledAt, now)));
  }
  const change = { before: p.colour, after: { colour: v.colour, reason: v.reason, since: fields.colourSince ?? now.toISOString() }, bangInProgress: bangInProgress(p) };
  const computerColour = async () => run.computerColours.get(p.computerId) ?? 'red';
  const { state, events } = await observePartitionChange(run.session, p, change, now, computerColour);
  const key = earliest(sweepAt, nextFlapSampleAt(state.flapping, state.sampledAt ? new Date(state.sampledAt) : null, now));
  return recordWithEvents(deps, run.session, events, { computerId: p.computerId, partitionId: p.partitionId }, p.notifyPending, (pending) =>
    deps.store.recordPartitionColour(p, fields, key, { state, pending }),
  );
}

async function sweepPartitions(run: SweepRun, result: SweepResult): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await run.deps.store.pageSweepDue(run.now.toISOString(), cursor);
    for (const p of page.items) {
      result.examined++;
      const v = partitionVerdict(p, run.now);
      if ((await sweepPartition(run, p, v)) && v.colour !== p.colour) {
        result.changed++;
        result.transitions.push({ type: 'partition', id: p.partitionId, from: p.colour, to: v.colour, reason: v.reason });
      }
    }
    cursor = page.next ?? undefined;
  } while (cursor);
}

export async function runSweep(deps: SweepDeps, now: Date): Promise<SweepResult> {
  const result: SweepResult = { examined: 0, changed: 0, transitions: [], summary: { computers: { green: 0, orange: 0, red: 0 }, partitionsRed: 0, asOf: now.toISOString() } };
  const d = { ...deps, now: () => now };
  const run: SweepRun = { deps: d, now, session: notifySession(d), computerColours: new Map() };
  const computers = await sweepComputers(deps, now, result, run);
  await sweepPartitions(run, result);
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
