// Lambda entry of the HTTP API: the Hono app of functions/app.ts through hono/aws-lambda.
// Serves Lambda function URL and API Gateway HTTP API (payload 2.0) events alike.
import type { Context } from 'aws-lambda';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type AppDeps, createApp } from '../app.ts';
import { apiDepsFromEnv, createApiClients, createObservability, type Observability } from './runtime.ts';

type HonoLambda = ReturnType<typeof handle>;
export type ApiHandler = (event: LambdaEvent, context: Context) => ReturnType<HonoLambda>;

export function createApiHandler(deps: AppDeps, obs: Observability = createObservability('vigil-api')): ApiHandler {
  const run = handle(createApp(deps));
  const { logger, metrics } = obs;
  return async (event, context) => {
    logger.addContext(context);
    metrics.captureColdStartMetric();
    try {
      const res = await run(event, context);
      // Request counts and durations are in the free AWS/Lambda metrics; publish (one EMF
      // log line) only what they cannot show: answers with a 5xx status.
      if (res.statusCode >= 500) metrics.addMetric('ApiServerErrors', MetricUnit.Count, 1);
      return res;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

let lazy: ApiHandler | undefined;

/** The function's handler (`index.handler`): built from the environment on first use. */
export const handler: ApiHandler = (event, context) => {
  if (!lazy) {
    const obs = createObservability('vigil-api');
    lazy = createApiHandler(apiDepsFromEnv(process.env, createApiClients(), obs.logger), obs);
  }
  return lazy(event, context);
};
