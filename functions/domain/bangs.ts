// Bang rules, pure: what a bang keeps and the reason it gives its tree.
import type { BangRequest } from '../../protocol/index.ts';
import { BANG_REASON_MAX, keepEnd, MESSAGE_MAX } from '../../protocol/limits.ts';
import type { BangRecord, PartitionRecord } from './records.ts';

/** The reprocess reason a bang gives every partition of its tree: who banged, and the end of its message (BANG_REASON_MAX characters at most). */
export function bangReason(b: { partitionId: string; source: string; message: string }): string {
  const head = `bang from ${b.partitionId} (${b.source}): `;
  return head.length >= BANG_REASON_MAX ? keepEnd(head, BANG_REASON_MAX) : `${head}${keepEnd(b.message, BANG_REASON_MAX - head.length)}`;
}

/** The record of a bang from partition `p` at `createdAt`, before the quota says whether it is accepted. */
export function newBang(
  p: Pick<PartitionRecord, 'partitionId' | 'computerId' | 'instanceTreeId'>,
  b: BangRequest,
  createdAt: string,
): Omit<BangRecord, 'fannedOutTo' | 'fanOut' | 'accepted'> {
  return {
    bangId: b.bangId,
    partitionId: p.partitionId,
    computerId: p.computerId,
    instanceTreeId: p.instanceTreeId,
    message: keepEnd(b.message, MESSAGE_MAX),
    source: b.source,
    createdAt,
    fanOutCompletedAt: null,
  };
}
