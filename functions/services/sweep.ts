// The minute sweep: records colour transitions (colour, colourReason, colourSince) of the
// items whose colour is due to change. It reads only the sparse `sweep` index up to now,
// so its reads grow with the number of colour changes, not with the size of the fleet.
import type { Colour } from '../../protocol/index.ts';
import { computerVerdict, nextColourFields, partitionVerdict } from '../domain/transitions.ts';
import type { SweepItem } from '../store/types.ts';
import type { ServiceDeps } from './deps.ts';

export type SweepDeps = Pick<ServiceDeps, 'store'>;

export interface SweepTransition {
  type: SweepItem['type'];
  id: string;
  from: Colour;
  to: Colour;
  reason: string;
}

export interface SweepResult {
  /** Items read from the sweep index. */
  examined: number;
  /** Items whose colour changed. */
  changed: number;
  transitions: SweepTransition[];
}

export async function runSweep(deps: SweepDeps, now: Date): Promise<SweepResult> {
  const result: SweepResult = { examined: 0, changed: 0, transitions: [] };
  const nowIso = now.toISOString();
  let cursor: string | undefined;
  do {
    const page = await deps.store.pageSweepDue(nowIso, cursor);
    for (const item of page.items) {
      result.examined++;
      const v = item.type === 'computer' ? computerVerdict(item.record, now) : partitionVerdict(item.record, now);
      const fields = nextColourFields(item.record, v, now);
      const ok = await deps.store.recordColour(item, fields);
      if (ok && fields.colour !== item.record.colour) {
        result.changed++;
        result.transitions.push({
          type: item.type,
          id: item.type === 'computer' ? item.record.computerId : item.record.partitionId,
          from: item.record.colour,
          to: fields.colour,
          reason: fields.colourReason,
        });
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return result;
}
