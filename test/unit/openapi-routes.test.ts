// /openapi.json is assembled from the route modules (functions/routes/): the set of paths,
// methods and status codes it publishes is pinned here, so that a route lost or changed while
// moving code between modules shows. An intended API change updates this list.
import { expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../functions/app.ts';
import type { Store } from '../../functions/store/types.ts';

const OpenApi = z.object({
  openapi: z.string(),
  paths: z.record(z.string(), z.record(z.string(), z.object({ responses: z.record(z.string(), z.unknown()) }).passthrough())),
  components: z.object({ securitySchemes: z.record(z.string(), z.unknown()) }).passthrough(),
});

it('publishes every route of the API with its methods and status codes', async () => {
  // /openapi.json reads no data: a store that throws proves it.
  const store = new Proxy({} as Store, {
    get: () => () => {
      throw new Error('no store read');
    },
  });
  const app = createApp({ store, queue: { send: async () => {} }, now: () => new Date('2025-01-01T00:00:00Z'), adminToken: () => 'x' });
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  const doc = OpenApi.parse(await res.json());
  const rows = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => `${method.toUpperCase()} ${path} ${Object.keys(op.responses).sort().join(',')}`))
    .sort();
  expect(rows).toEqual([
    'DELETE /v1/channels/{channelId} 200,401,403,404,413,429',
    'DELETE /v1/silences/{silenceId} 200,401,403,404,413,429',
    'GET / 200',
    'GET /healthz 200',
    'GET /openapi.json 200',
    'GET /v1/bangs 200,400,401,403,413,429',
    'GET /v1/channels 200,400,401,403,413,429',
    'GET /v1/channels/{channelId} 200,401,403,404,413,429',
    'GET /v1/computers 200,400,401,403,413,429',
    'GET /v1/computers/{computerId} 200,401,403,404,413,429',
    'GET /v1/events 200,400,401,403,413,429',
    'GET /v1/instance-trees/{treeId} 200,400,401,403,404,413,429',
    'GET /v1/partitions 200,400,401,403,413,429',
    'GET /v1/partitions/{partitionId} 200,401,403,404,413,429',
    'GET /v1/partitions/{partitionId}/promises 200,400,401,403,404,413,429',
    'GET /v1/silences 200,400,401,403,413,429',
    'GET /v1/silences/{silenceId} 200,401,403,404,413,429',
    'GET /v1/software-releases 200,400,401,403,413,429',
    'GET /v1/software-releases/{srId} 200,401,403,404,413,429',
    'GET /v1/summary 200,401,403,413,429',
    'POST /v1/computers/{computerId}/heartbeat 200,400,401,403,413',
    'POST /v1/computers/{computerId}/token 200,401,403,404,413,429',
    'POST /v1/partitions/{partitionId}/bang 202,400,401,403,404,413,429',
    'POST /v1/partitions/{partitionId}/reports 202,400,401,403,413',
    'PUT /v1/channels/{channelId} 200,201,400,401,403,409,413,429',
    'PUT /v1/computers/{computerId} 200,201,400,401,403,413,429',
    'PUT /v1/partitions/{partitionId} 200,201,400,401,403,404,409,413,429',
    'PUT /v1/silences/{silenceId} 200,201,400,401,403,413,429',
    'PUT /v1/software-releases/{srId} 200,201,400,401,403,413,429',
  ]);
  expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearer']);
});
