// Lambda entry of the notification delivery worker. Invoked two ways:
//  - by the notify queue (SQS event source, partial batch failures): whatever published
//    events sent a wake-up message; a message that is not one fails alone and reaches the
//    dead-letter queue after NOTIFY_MAX_RECEIVES receives (alarm);
//  - every minute by EventBridge Scheduler: retries that came due, and the repair of events
//    left unrouted by a crash.
// Either way it runs deliverDue passes (services/notify-deliver.ts) while work is due and time
// is left, then, when the next retry is due within the minute, sends itself a delayed wake-up
// (SQS DelaySeconds), so the 5 s, 10 s, 20 s retries are not rounded up to the schedule.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createEventBridgeSender } from '../notify-bus.ts';
import { createSqsNotifyWake } from '../notify-queue.ts';
import { type DeliverDeps, type DeliverDueOptions, type DeliverDueResult, deliverDue } from '../services/notify-deliver.ts';
import { MalformedWakeMessage, parseWakeMessage } from '../services/notify-wake.ts';
import { createDynamoClient, createObservability, createSqsClient, notifyDepsFromEnv, type Observability, requireEnv, storeFromEnv } from './runtime.ts';
import type { SchedulerEvent } from './sweep.ts';

export interface NotifyHandlerDeps {
  deps: DeliverDeps;
  options?: DeliverDueOptions;
  /** Wakes this function again after `delaySeconds` (an SQS message to its own queue). */
  wakeLater?: (delaySeconds: number) => Promise<void>;
}

export interface NotifyRun {
  passes: number;
  repaired: number;
  delivered: number;
  retried: number;
  dead: number;
  deferred: number;
  /** The next retry due (ISO), null: nothing queued. */
  nextWakeAt: string | null;
}

export type NotifyHandler = {
  (event: SQSEvent, context: Context): Promise<SQSBatchResponse>;
  (event: SchedulerEvent | null | undefined, context: Context): Promise<NotifyRun>;
};

/** Time kept back from the function's timeout: a delivery may take its 10 s timeout. */
const SAFETY_MS = 15_000;
/** Passes per invocation at most (a backlog is spread over invocations). */
const MAX_PASSES = 50;
/** The scheduler runs every minute: self wake-ups only for what is due before that. */
const SCHEDULE_MS = 60_000;
/** A pass that could do nothing (items leased by an invocation that died): wait before the next. */
const STUCK_WAKE_SECONDS = 5;

const isSqs = (e: unknown): e is SQSEvent => Array.isArray((e as SQSEvent | null)?.Records);

async function drain(h: NotifyHandlerDeps, context: Context, events: string[]): Promise<{ run: NotifyRun; last: DeliverDueResult | null }> {
  const run: NotifyRun = { passes: 0, repaired: 0, delivered: 0, retried: 0, dead: 0, deferred: 0, nextWakeAt: null };
  let last: DeliverDueResult | null = null;
  // one pass always; more while work is due and time is left
  do {
    // the first pass also looks at the events the wake-ups name (the index may lag behind)
    last = await deliverDue(h.deps, h.deps.now(), run.passes === 0 ? { ...h.options, events } : h.options);
    run.passes++;
    run.repaired += last.repaired;
    run.delivered += last.delivered;
    run.retried += last.retried;
    run.dead += last.dead;
    run.deferred += last.deferred;
    run.nextWakeAt = last.nextWakeAt?.toISOString() ?? null;
    const progress = last.attempted + last.deferred + last.repaired > 0;
    if (!progress || !last.nextWakeAt || last.nextWakeAt > h.deps.now()) break;
  } while (run.passes < MAX_PASSES && context.getRemainingTimeInMillis() > SAFETY_MS);
  return { run, last };
}

/** A wake-up before the next scheduled run when a retry is due sooner. */
async function wakeAgain(h: NotifyHandlerDeps, last: DeliverDueResult | null): Promise<void> {
  if (!h.wakeLater || !last?.nextWakeAt) return;
  const inMs = last.nextWakeAt.getTime() - h.deps.now().getTime();
  const progress = last.attempted + last.deferred + last.repaired > 0;
  if (inMs >= SCHEDULE_MS) return;
  await h.wakeLater(inMs <= 0 && !progress ? STUCK_WAKE_SECONDS : Math.max(0, inMs / 1000));
}

export function createNotifyHandler(h: NotifyHandlerDeps, obs: Observability = createObservability('vigil-notify')): NotifyHandler {
  const { logger, metrics } = obs;
  const processor = new BatchProcessor(EventType.SQS);
  let named: string[] = [];
  const record = async (r: SQSRecord): Promise<void> => {
    try {
      const m = parseWakeMessage(r.body);
      named.push(...m.events);
    } catch (err) {
      if (err instanceof MalformedWakeMessage) {
        logger.error('malformed notify message', { messageId: r.messageId, error: err });
        metrics.addMetric('MalformedNotifyMessages', MetricUnit.Count, 1);
      }
      throw err;
    }
  };
  const runPasses = async (context: Context, events: string[]): Promise<NotifyRun> => {
    const { run, last } = await drain(h, context, events);
    // Only what happened: each custom metric is billed for the hours it is published in
    // (docs/cost.md), and an idle pass every minute would make all of them full-time. The
    // DeadDeliveries alarm treats missing data as not breaching.
    if (run.delivered > 0) metrics.addMetric('Delivered', MetricUnit.Count, run.delivered);
    if (run.retried > 0) metrics.addMetric('DeliveryRetries', MetricUnit.Count, run.retried);
    if (run.dead > 0) metrics.addMetric('DeadDeliveries', MetricUnit.Count, run.dead);
    if (run.repaired > 0) metrics.addMetric('EventsRepaired', MetricUnit.Count, run.repaired);
    if (run.delivered + run.retried + run.dead + run.repaired > 0) logger.info('notifications', { ...run });
    await wakeAgain(h, last);
    return run;
  };
  const handler = async (event: SQSEvent | SchedulerEvent | null | undefined, context: Context): Promise<SQSBatchResponse | NotifyRun> => {
    logger.addContext(context);
    try {
      if (!isSqs(event)) return await runPasses(context, []);
      named = [];
      const response = await processPartialResponse(event, record, processor, { context });
      await runPasses(context, named);
      return response;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
  return handler as NotifyHandler;
}

let lazy: NotifyHandler | undefined;

/** The function's handler: store, bus and own queue from the environment, on first use. */
export const handler = ((event: SQSEvent | SchedulerEvent, context: Context) => {
  if (!lazy) {
    const env = process.env;
    const sqs = createSqsClient(env);
    const wake = createSqsNotifyWake({ client: sqs, queueUrl: requireEnv(env, 'NOTIFY_QUEUE_URL') });
    const busName = env.EVENT_BUS_NAME;
    lazy = createNotifyHandler(
      {
        deps: { store: storeFromEnv(env, { dynamo: createDynamoClient() }), now: () => new Date(), notify: notifyDepsFromEnv(env, sqs) },
        options: busName ? { bus: createEventBridgeSender({ client: new EventBridgeClient({}), busName }) } : {},
        wakeLater: (delaySeconds) => wake([], delaySeconds),
      },
      createObservability('vigil-notify'),
    );
  }
  return lazy(event as SQSEvent, context);
}) as NotifyHandler;
