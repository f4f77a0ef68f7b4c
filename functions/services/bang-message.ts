// The bang queue's message: what the bang service sends and the fan-out consumes (one
// construction, from the bang record, for the API and for the local master's replay).
import { z } from 'zod';
import { bangReason } from '../domain/bangs.ts';
import type { BangRecord } from '../domain/records.ts';

/** Receives of a message before the queue moves it to its dead-letter queue (AWS stack and local master). */
export const BANG_MAX_RECEIVES = 5;

export const BangMessage = z.object({
  bangId: z.string().min(1),
  partitionId: z.string().min(1),
  computerId: z.string().min(1),
  instanceTreeId: z.string().min(1),
  requestedAt: z.string().min(1),
  reason: z.string(),
});
export type BangMessage = z.infer<typeof BangMessage>;

/** The message of an accepted bang: its tree is reprocessed as of the bang's time. */
export function bangMessage(b: Pick<BangRecord, 'bangId' | 'partitionId' | 'computerId' | 'instanceTreeId' | 'createdAt' | 'source' | 'message'>): BangMessage {
  return {
    bangId: b.bangId,
    partitionId: b.partitionId,
    computerId: b.computerId,
    instanceTreeId: b.instanceTreeId,
    requestedAt: b.createdAt,
    reason: bangReason(b),
  };
}

/** A queue message body that is not a bang message: it never becomes one (dead letter). */
export class MalformedBangMessage extends Error {
  override readonly name = 'MalformedBangMessage';
}

export function parseBangMessage(body: string): BangMessage {
  try {
    return BangMessage.parse(JSON.parse(body));
  } catch (err) {
    throw new MalformedBangMessage(`malformed bang message: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
