// What the notification services need beyond the store and the clock: the master's public
// URL (dashboard links in events), how to wake the delivery worker after a publish (the
// local loop in process; an SQS message in the cloud), and whether sendable events also go
// to the EventBridge bus (cloud only: a pseudo-channel delivered by the notify function).
import type { VigilEvent } from '../../protocol/events.ts';
import type { DeliveryOutcome } from '../notify/deliver.ts';

export interface NotifyDeps {
  /** The master's public URL (local: http://127.0.0.1:8787; cloud: the admin URL). */
  baseUrl: string;
  /**
   * Tells the delivery worker that deliveries were queued (never throws for the caller: a
   * failed wake is logged, the worker's own schedule picks the deliveries up).
   */
  wake?: (eventIds: string[]) => Promise<void> | void;
  /** Queue every sendable event for the EventBridge bus too (the `~eventbridge` pseudo-channel). */
  eventBus?: boolean;
}

/** Puts one event on the EventBridge bus (the notify function's), classified like a delivery. */
export type BusSender = (event: VigilEvent) => Promise<DeliveryOutcome>;

/** The pseudo-channel of the EventBridge bus (no channel id can start with `~`). */
export const BUS_CHANNEL_ID = '~eventbridge';

/** Dashboard links when no public URL is configured (the local master's default address). */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:8787';
