// Lambda entry of the HTTP API: the Hono app of functions/app.ts through hono/aws-lambda.
// Serves Lambda function URL and API Gateway HTTP API (payload 2.0) events alike.
// The same bundle runs as two functions (docs/decisions.md, "Fleet scale: cloud front"):
// VIGIL_ROUTES=computer serves only what agents call (heartbeats, reports, bangs, /healthz),
// so a flood of admin or dashboard traffic cannot use up its concurrency; VIGIL_ROUTES=all
// (the admin function, and the default) serves everything.
import type { Context } from 'aws-lambda';
import { type APIGatewayProxyResult, handle, type LambdaEvent } from 'hono/aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type AppDeps, createApp } from '../app.ts';
import { apiDepsFromEnv, createApiClients, createObservability, type Observability } from './runtime.ts';

type HonoLambda = ReturnType<typeof handle>;
export type ApiHandler = (event: LambdaEvent, context: Context) => ReturnType<HonoLambda>;

/** Which routes a function serves. */
export type RouteSet = 'all' | 'computer';

/** The calls of the agent (computer token) and the health check. */
const COMPUTER_ROUTES: readonly [string, RegExp][] = [
  ['GET', /^\/healthz$/],
  ['POST', /^\/v1\/computers\/[^/]+\/heartbeat$/],
  ['POST', /^\/v1\/partitions\/[^/]+\/reports$/],
  ['POST', /^\/v1\/partitions\/[^/]+\/bang$/],
];

/** Method and path of any event shape hono/aws-lambda accepts. */
export function eventRoute(event: LambdaEvent): { method: string; path: string } {
  if ('rawPath' in event) return { method: event.requestContext.http.method, path: event.rawPath };
  if ('httpMethod' in event) return { method: event.httpMethod, path: event.path };
  return { method: event.method, path: event.path };
}

export function isComputerRoute(method: string, path: string): boolean {
  const m = method.toUpperCase();
  return COMPUTER_ROUTES.some(([rm, re]) => rm === m && re.test(path));
}

function notServedHere(path: string): APIGatewayProxyResult {
  return {
    statusCode: 404,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      error: 'not_found',
      message: `${path} is not served at this URL: it serves the agents (heartbeats, reports, bangs); the dashboard and the admin API are at the admin URL (stack output AdminUrl)`,
    }),
    isBase64Encoded: false,
  };
}

export function routeSetFromEnv(value: string | undefined): RouteSet {
  if (value === undefined || value === '' || value === 'all') return 'all';
  if (value === 'computer') return 'computer';
  throw new Error(`vigil: VIGIL_ROUTES must be 'all' or 'computer', got '${value}'`);
}

export function createApiHandler(deps: AppDeps, obs: Observability = createObservability('vigil-api'), routes: RouteSet = 'all'): ApiHandler {
  const run = handle(createApp(deps));
  const { logger, metrics } = obs;
  return async (event, context) => {
    logger.addContext(context);
    try {
      if (routes === 'computer') {
        const { method, path } = eventRoute(event);
        if (!isComputerRoute(method, path)) return notServedHere(path) as Awaited<ReturnType<HonoLambda>>;
      }
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
    const service = process.env.POWERTOOLS_SERVICE_NAME ?? 'vigil-api';
    const obs = createObservability(service);
    lazy = createApiHandler(apiDepsFromEnv(process.env, createApiClients(), obs.logger), obs, routeSetFromEnv(process.env.VIGIL_ROUTES));
  }
  return lazy(event, context);
};
