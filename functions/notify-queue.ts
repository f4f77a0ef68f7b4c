// The notify queue (cloud only): the wake-up message sent by whatever publishes events, and
// by the notify function to itself for a retry due within the minute. (The EventBridge bus is
// in notify-bus.ts: only the notify function bundles its client.)
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { wakeMessage } from './services/notify-wake.ts';

/** `wake(eventIds, delaySeconds)`: one SQS message (delay at most 15 min, SQS's limit). */
export function createSqsNotifyWake({ client, queueUrl }: { client: SQSClient; queueUrl: string }) {
  return async (eventIds: readonly string[], delaySeconds = 0): Promise<void> => {
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(wakeMessage(eventIds)),
        DelaySeconds: Math.max(0, Math.min(900, Math.ceil(delaySeconds))),
      }),
    );
  };
}
