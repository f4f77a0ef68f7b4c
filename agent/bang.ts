// Sending a bang (agent or watchdog): direct when the partition's spool is empty, else queued
// behind what is already spooled (order); a bang the master could not take is spooled; a 429
// (daily quota) is not retried — the caller records the wait. The throttle marker
// (last-bang.json) is written for every bang sent or spooled.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { secondsToNextUtcDay } from '../protocol/quota.ts';
import type { MasterClient } from './client.ts';
import type { BangRequest } from '../protocol/index.ts';
import { capMessage } from './promise/result.ts';
import { Spool } from './spool.ts';
import { agentStateDir, readPartitionState, writeLastBang } from './state.ts';

export type BangOutcome =
  | { outcome: 'sent'; bangId: string; fannedOutTo?: number }
  | { outcome: 'spooled'; bangId: string; reason: string }
  | { outcome: 'quota'; bangId: string; retryAfterSeconds: number; message: string }
  | { outcome: 'rejected'; bangId: string; message: string };

export function partitionSpool(partitionDir: string): Spool {
  return new Spool(join(agentStateDir(partitionDir), 'spool'));
}

/** Seconds until the next UTC midnight (fallback when a 429 has no Retry-After): the master's quota day. */
export { secondsToNextUtcDay };

export async function sendBang(opts: {
  client: MasterClient;
  partitionDir: string;
  partitionId: string;
  message: string;
  source: BangRequest['source'];
  now: () => Date;
}): Promise<BangOutcome> {
  const body: BangRequest = { bangId: randomUUID(), message: capMessage(opts.message), source: opts.source };
  const spool = partitionSpool(opts.partitionDir);
  const successAtBang = readPartitionState(opts.partitionDir).lastSuccessAt;
  const mark = () =>
    writeLastBang(opts.partitionDir, {
      bangId: body.bangId,
      bangAt: opts.now().toISOString(),
      source: opts.source,
      ...(successAtBang ? { successAtBang } : {}),
    });
  const queue = (reason: string): BangOutcome => {
    spool.enqueue({ kind: 'bang', partitionId: opts.partitionId, body, queuedAt: opts.now().toISOString() });
    mark();
    return { outcome: 'spooled', bangId: body.bangId, reason };
  };
  if (spool.depth() > 0) return queue('earlier items are waiting in the spool');
  const r = await opts.client.bang(opts.partitionId, body);
  if (r.ok) {
    mark();
    const fanned = (r.body as { fannedOutTo?: unknown } | undefined)?.fannedOutTo;
    return { outcome: 'sent', bangId: body.bangId, ...(typeof fanned === 'number' ? { fannedOutTo: fanned } : {}) };
  }
  if (r.status === 429) {
    return {
      outcome: 'quota',
      bangId: body.bangId,
      retryAfterSeconds: r.retryAfterSeconds ?? secondsToNextUtcDay(opts.now()),
      message: r.message,
    };
  }
  if (r.retryable) return queue(r.message);
  return { outcome: 'rejected', bangId: body.bangId, message: r.message };
}
