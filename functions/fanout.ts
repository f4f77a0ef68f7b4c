// Bang fan-out: flag every partition of the instance tree for reprocess. Pages through
// the tree (any size), runs a bounded number of single-item UpdateItems in parallel, and
// is idempotent per bangId (a redelivered message changes nothing).
import { mapLimit } from './lib/concurrency.ts';
import type { Store } from './store/types.ts';
import type { BangMessage } from './queue.ts';

export interface FanOutDeps {
  store: Store;
  now: () => Date;
  /** Parallel UpdateItems (default 32). */
  concurrency?: number;
}

export interface FanOutResult {
  /** Partitions in the tree. */
  total: number;
  /** Partitions newly flagged by this call. */
  flagged: number;
  /** The bang was already fanned out (redelivery). */
  skipped: boolean;
}

export async function fanOutBang(deps: FanOutDeps, message: BangMessage): Promise<FanOutResult> {
  const existing = await deps.store.getBang(message.partitionId, message.bangId);
  if (existing?.fanOut === 'done') return { total: existing.fannedOutTo, flagged: 0, skipped: true };
  const flag = { requestedAt: message.requestedAt, reason: message.reason, bangId: message.bangId };
  let total = 0;
  let flagged = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.store.pageTreePartitions(message.instanceTreeId, cursor);
    total += page.items.length;
    const done = await mapLimit(page.items, deps.concurrency ?? 32, (ref) => deps.store.flagReprocess(ref, flag));
    flagged += done.filter(Boolean).length;
    cursor = page.cursor;
  } while (cursor);
  if (existing) await deps.store.completeBang(message.partitionId, message.bangId, total, deps.now().toISOString());
  return { total, flagged, skipped: false };
}
