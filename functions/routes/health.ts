// Public routes: /healthz, and the OpenAPI document of every route (/openapi.json).
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { Health } from '../../protocol/index.ts';
import { type ApiEnv, json, router } from './context.ts';

const healthz = createRoute({ method: 'get', path: '/healthz', responses: { 200: json(Health, 'alive') } });

export function healthRoutes() {
  return router().openapi(healthz, (c) => c.json({ status: 'ok' as const, time: c.var.deps.now().toISOString() }, 200));
}

/**
 * Serves /openapi.json on the assembled app (generated from every route's schemas, so it
 * cannot drift); it also lists itself and the dashboard's `GET /`.
 */
export function serveOpenApi(app: OpenAPIHono<ApiEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/openapi.json',
    responses: { 200: { description: 'this OpenAPI 3 document', content: { 'application/json': { schema: z.object({}).passthrough() } } } },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/',
    responses: {
      200: { description: 'the dashboard (HTML), or its login form (admin token) without a session', content: { 'text/html': { schema: z.string() } } },
    },
  });
  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: { title: 'vigil master API', version: '0.1.0', description: 'Promise-based monitoring master (SPEC §3).' },
  });
}
