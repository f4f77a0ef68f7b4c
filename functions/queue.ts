// The bang queue on SQS: the bang service sends one message per accepted bang; the fan-out
// consumer (Lambda in AWS, the poller below in the local master) handles it with the same
// code (services/fanout.ts consumeBangMessage). A message that fails — malformed, or a
// fan-out error — stays on the queue: it comes back after its visibility timeout, and the
// queue's redrive policy moves it to the dead-letter queue after BANG_MAX_RECEIVES receives.
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { BangMessage } from './services/bang-message.ts';
import type { BangQueue } from './services/deps.ts';

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
  /** Handles one message body; a throw leaves the message on the queue. */
  handle: (body: string) => Promise<void>;
  signal: AbortSignal;
  waitTimeSeconds?: number;
  onError?: (err: unknown) => void;
}

/**
 * Local consumer: long-polls the queue until `signal` aborts. A message is deleted only
 * after `handle` succeeded; a failing one (reported through onError) comes back after its
 * visibility timeout, until the redrive policy dead-letters it — as the Lambda event
 * source mapping does with the batch item failures of the fanout handler.
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
        try {
          await handle(m.Body ?? '');
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
