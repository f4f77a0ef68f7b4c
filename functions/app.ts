// The master's HTTP API (SPEC §3): one Hono app, served by Lambda in AWS and by
// @hono/node-server locally. createApp only assembles: the HTTP edges (routes/http.ts), one
// sub-app per resource (routes/), the OpenAPI document and the dashboard. Requests flow
// route → service (services/) → domain rules + store; colours are computed at request time
// with the master's clock (deps.now).
import { createDashboard } from './dashboard/index.tsx';
import { createSessions } from './dashboard/sessions.ts';
import { AuthGuard, FailureLimiter } from './limiter.ts';
import { bangRoutes } from './routes/bangs.ts';
import { channelRoutes } from './routes/channels.ts';
import { computerRoutes } from './routes/computers.ts';
import { type ApiDeps, router } from './routes/context.ts';
import { healthRoutes, serveOpenApi } from './routes/health.ts';
import { eventRoutes } from './routes/events.ts';
import { errorHandler, jsonBodies, limitBody, noRoute } from './routes/http.ts';
import { partitionRoutes } from './routes/partitions.ts';
import { silenceRoutes } from './routes/silences.ts';
import { softwareReleaseRoutes } from './routes/software-releases.ts';
import { summaryRoutes } from './routes/summary.ts';
import { treeRoutes } from './routes/trees.ts';
import { defaultLogError } from './services/deps.ts';
import { ComputerTokenCache } from './token-cache.ts';

export { ApiError } from './routes/context.ts';

export interface AppDeps extends ApiDeps {
  /** Mount the dashboard at / (default true). */
  dashboard?: boolean;
}

export function createApp(deps: AppDeps) {
  const app = router();
  // Failed admin-token attempts, counted per client address (functions/limiter.ts), for the
  // API's auth (routes/auth.ts) and the dashboard's login alike.
  const guard = new AuthGuard(deps.limiter ?? new FailureLimiter(), deps.clientAddress ?? (() => null));
  const tokens = deps.tokens ?? new ComputerTokenCache();
  app.onError(errorHandler(deps.logError ?? defaultLogError));
  app.notFound(noRoute);
  app.use('*', limitBody);
  app.use('/v1/*', jsonBodies);
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    c.set('guard', guard);
    c.set('tokens', tokens);
    await next();
  });
  app.route('/', healthRoutes());
  app.route('/', softwareReleaseRoutes());
  app.route('/', computerRoutes());
  app.route('/', partitionRoutes());
  app.route('/', treeRoutes());
  app.route('/', bangRoutes());
  app.route('/', channelRoutes());
  app.route('/', silenceRoutes());
  app.route('/', eventRoutes());
  app.route('/', summaryRoutes());
  serveOpenApi(app);
  if (deps.dashboard !== false) {
    const sessions = createSessions({ store: deps.store, now: deps.now });
    app.route('/', createDashboard({ adminToken: deps.adminToken, now: deps.now, api: (path, init) => app.request(path, init), sessions, guard }));
  }
  return app;
}

export type VigilApp = ReturnType<typeof createApp>;
