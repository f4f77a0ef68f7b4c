// The bang queue: the app sends one message per accepted bang; the fan-out consumer
// (Lambda in AWS, a poller in the local master) flags every partition of the tree.
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { BANG_REASON_MAX, keepEnd } from '../protocol/limits.ts';

export const BangMessage = z.object({
  bangId: z.string().min(1),
  partitionId: z.string().min(1),
  computerId: z.string().min(1),
  instanceTreeId: z.string().min(1),
  requestedAt: z.string().min(1),
  reason: z.string(),
});
export type BangMessage = z.infer<typeof BangMessage>;

/** The reprocess reason a bang gives every partition of its tree (its end, BANG_REASON_MAX characters at most). */
export function bangReason(b: { partitionId: string; source: string; message: string }): string {
  return keepEnd(`bang from ${b.partitionId} (${b.source}): ${b.message}`, BANG_REASON_MAX);
}

export function parseBangMessage(body: string): BangMessage {
  return BangMessage.parse(JSON.parse(body));
}

export interface BangQueue {
  send(message: BangMessage): Promise<void>;
}

export function createSqsBangQueue({ client, queueUrl }: { client: SQSClient; queueUrl: string }): BangQueue {
  return {
    async send(message) {
      await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: sqsSafeJson(BangMessage.parse(message)) }));
    },
  };
}

export interface PollOptions {
  client: SQSClient;
  queueUrl: string;
  handle: (message: BangMessage) => Promise<void>;
  signal: AbortSignal;
  waitTimeSeconds?: number;
  onError?: (err: unknown) => void;
}

/**
 * Local consumer: long-polls the queue until `signal` aborts. A message is deleted only
 * after `handle` succeeded; a failing one comes back after its visibility timeout.
 * Malformed messages are dropped (reported through onError).
 */
export async function pollBangQueue(opts: PollOptions): Promise<void> {
  const { client, queueUrl, handle, signal } = opts;
  while (!signal.aborted) {
    let messages: { Body?: string; ReceiptHandle?: string }[] = [];
    try {
      const r = await client.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: opts.waitTimeSeconds ?? 1 }),
        { abortSignal: signal },
      );
      messages = r.Messages ?? [];
    } catch (err) {
      if (signal.aborted) return;
      opts.onError?.(err);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    await Promise.all(
      messages.map(async (m) => {
        let parsed: BangMessage | null = null;
        try {
          parsed = parseBangMessage(m.Body ?? '');
        } catch (err) {
          opts.onError?.(err);
        }
        try {
          if (parsed) await handle(parsed);
          await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
        } catch (err) {
          opts.onError?.(err);
        }
      }),
    );
  }
}

/**
 * JSON that every SQS accepts: SQS refuses U+FFFE/U+FFFF and some emulators (fauxqs) any
 * character outside the BMP, so every non-ASCII UTF-16 unit is written as a \\uXXXX escape
 * (JSON.stringify already escapes control characters and lone surrogates).
 */
export function sqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
