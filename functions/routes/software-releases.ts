// /v1/software-releases (admin).
import { createRoute } from '@hono/zod-openapi';
import { SoftwareRelease, SoftwareReleaseList, SoftwareReleasePut } from '../../protocol/index.ts';
import { getSoftwareRelease, listSoftwareReleases } from '../services/queries.ts';
import { putSoftwareRelease } from '../services/registry.ts';
import { requireAdmin } from './auth.ts';
import { authErrors, body, err, json, notFound, router, SrParams, security } from './context.ts';

const put = createRoute({
  method: 'put',
  path: '/v1/software-releases/{srId}',
  security,
  middleware: [requireAdmin] as const,
  request: { params: SrParams, body: body(SoftwareReleasePut) },
  responses: { 200: json(SoftwareRelease, 'updated'), 201: json(SoftwareRelease, 'created'), 400: err('bad input'), ...authErrors },
});

const list = createRoute({
  method: 'get',
  path: '/v1/software-releases',
  security,
  middleware: [requireAdmin] as const,
  responses: { 200: json(SoftwareReleaseList, 'all software releases'), ...authErrors },
});

const get = createRoute({
  method: 'get',
  path: '/v1/software-releases/{srId}',
  security,
  middleware: [requireAdmin] as const,
  request: { params: SrParams },
  responses: { 200: json(SoftwareRelease, 'the software release'), 404: err('unknown'), ...authErrors },
});

export function softwareReleaseRoutes() {
  return router()
    .openapi(put, async (c) => {
      const r = await putSoftwareRelease(c.var.deps, c.req.valid('param').srId, c.req.valid('json'));
      return r.created ? c.json(r.softwareRelease, 201) : c.json(r.softwareRelease, 200);
    })
    .openapi(list, async (c) => c.json({ softwareReleases: await listSoftwareReleases(c.var.deps) }, 200))
    .openapi(get, async (c) => {
      const { srId } = c.req.valid('param');
      const sr = await getSoftwareRelease(c.var.deps, srId);
      if (!sr) throw notFound(`software release ${srId}`);
      return c.json(sr, 200);
    });
}
