// The EventBridge bus every sendable event is also put on (cloud only, by the notify function).
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { VigilEvent } from '../protocol/events.ts';
import type { DeliveryOutcome } from './notify/deliver.ts';
import { webhookBody } from './notify/format.ts';
import type { BusSender } from './services/notify-deps.ts';

/** The `source` of vigil's events on the bus (rules match on it). */
export const EVENT_SOURCE = 'vigil';

/** Puts an event on the bus: detail-type = its type, detail = the webhook body. Failures are retried like a receiver's 5xx. */
export function createEventBridgeSender({ client, busName }: { client: EventBridgeClient; busName: string }): BusSender {
  return async (event: VigilEvent): Promise<DeliveryOutcome> => {
    const started = performance.now();
    const durationMs = () => Math.round(performance.now() - started);
    try {
      const r = await client.send(
        new PutEventsCommand({ Entries: [{ EventBusName: busName, Source: EVENT_SOURCE, DetailType: event.type, Detail: webhookBody(event), Time: new Date(event.at) }] }),
      );
      const failed = r.Entries?.find((e) => e.ErrorCode);
      if ((r.FailedEntryCount ?? 0) > 0 || failed) {
        return { result: 'retry', error: `EventBridge: ${failed?.ErrorCode ?? 'failed'}: ${failed?.ErrorMessage ?? ''}`.trim(), retryAfter: null, durationMs: durationMs() };
      }
      return { result: 'delivered', status: 200, durationMs: durationMs() };
    } catch (err) {
      const e = err as { name?: string; message?: string };
      return { result: 'retry', error: `EventBridge: ${e.name ?? 'error'}: ${e.message ?? String(err)}`, retryAfter: null, durationMs: durationMs() };
    }
  };
}
