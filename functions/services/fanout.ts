// Bang fan-out: flag every partition of the instance tree for reprocess. Pages through the
// tree (any size), runs a bounded number of single-item UpdateItems in parallel, and is
// idempotent per bangId (a redelivered message changes nothing). The queue consumers (the
// Lambda handler, the local master's poller) both go through `consumeBangMessage`.
import { EVENT_LIST_CAP } from '../../protocol/events.ts';
import { mapLimit } from '../lib/concurrency.ts';
import { type BangMessage, bangMessage, parseBangMessage } from './bang-message.ts';
import type { ServiceDeps } from './deps.ts';
import { publishBangAccepted } from './notify-bangs.ts';

export interface FanOutDeps extends Pick<ServiceDeps, 'store' | 'now' | 'notify' | 'logError'> {
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
  const firstIds: string[] = [];
  do {
    const page = await deps.store.pageTreePartitions(message.instanceTreeId, cursor);
    total += page.items.length;
    if (firstIds.length < EVENT_LIST_CAP) firstIds.push(...page.items.map((r) => r.partitionId));
    const done = await mapLimit(page.items, deps.concurrency ?? 32, (ref) => deps.store.flagReprocess(ref, flag));
    flagged += done.filter(Boolean).length;
    // after the flags: their computers' heartbeats read them (every computer of the page, also
    // when its flag was already there: a redelivery after a crash between the two)
    await mapLimit([...new Set(page.items.map((r) => r.computerId))], deps.concurrency ?? 32, (id) => deps.store.raiseReprocessHint(id));
    cursor = page.next ?? undefined;
  } while (cursor);
  if (existing) {
    // the event before the mark: a crash between them repeats the fan-out and the (idempotent) publish
    await publishBangAccepted(deps, existing, total, firstIds);
    await deps.store.completeBang(message.partitionId, message.bangId, total, deps.now().toISOString());
  }
  return { total, flagged, skipped: false };
}

/**
 * One queue message, as every consumer handles it: parsed (a body that is not a bang
 * message throws MalformedBangMessage: the consumer leaves it on the queue, which moves it
 * to the dead-letter queue after its receive limit), then fanned out.
 */
export async function consumeBangMessage(deps: FanOutDeps, body: string): Promise<{ message: BangMessage; result: FanOutResult }> {
  const message = parseBangMessage(body);
  return { message, result: await fanOutBang(deps, message) };
}

/** Bangs accepted but not fanned out yet (at most `limit`, newest first). */
const REPLAY_MAX = 1000;

/**
 * Fans out again every accepted bang still pending (the local master's queue lives in
 * memory: bangs accepted before a restart are replayed; idempotent).
 */
export async function replayPendingBangs(deps: FanOutDeps): Promise<{ message: BangMessage; result: FanOutResult }[]> {
  const pending = (await deps.store.listBangs({}, { limit: REPLAY_MAX })).items.filter((b) => b.accepted && b.fanOut === 'pending');
  const out: { message: BangMessage; result: FanOutResult }[] = [];
  for (const b of pending) {
    const message = bangMessage(b);
    out.push({ message, result: await fanOutBang(deps, message) });
  }
  return out;
}
