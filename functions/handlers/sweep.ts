// Lambda entry of the minute sweep, invoked by EventBridge Scheduler with the input
// `{source: 'vigil.scheduler', schedule: 'minute', scheduledTime}`. Colours are computed at
// the master's current time (not the scheduled time: a late invocation must not record a
// stale colour); the delay is published as a metric.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { runSweep, type SweepDeps, type SweepResult } from '../services/sweep.ts';
import { createDynamoClient, createObservability, type Observability, storeFromEnv } from './runtime.ts';

export interface SchedulerEvent {
  source?: string;
  schedule?: string;
  scheduledTime?: string;
}

export type SweepHandler = (event: SchedulerEvent | null | undefined, context: Context) => Promise<SweepResult>;

export function createSweepHandler(
  deps: SweepDeps & { now?: () => Date },
  obs: Observability = createObservability('vigil-sweep'),
): SweepHandler {
  const { logger, metrics } = obs;
  const now = deps.now ?? (() => new Date());
  // Two custom metrics, each billed as a metric-month (docs/cost.md): the delay (late or
  // missing sweeps) and the colour changes. What it examined is in the 'sweep done' log line;
  // cold starts are in the logger's cold_start key and Lambda's own Init Duration.
  return async (event, context) => {
    logger.addContext(context);
    try {
      const at = now();
      const scheduled = event?.scheduledTime ? Date.parse(event.scheduledTime) : Number.NaN;
      if (Number.isFinite(scheduled)) metrics.addMetric('SweepDelayMs', MetricUnit.Milliseconds, Math.max(0, at.getTime() - scheduled));
      const result = await runSweep(deps, at);
      metrics.addMetric('ColourChanges', MetricUnit.Count, result.changed);
      for (const t of result.transitions) logger.info('colour changed', { ...t });
      logger.info('sweep done', { examined: result.examined, changed: result.changed, scheduledTime: event?.scheduledTime });
      return result;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

let lazy: SweepHandler | undefined;

export const handler: SweepHandler = (event, context) => {
  lazy ??= createSweepHandler({ store: storeFromEnv(process.env, { dynamo: createDynamoClient() }) });
  return lazy(event, context);
};
