// /v1/software-releases (admin).
import { PageQuery, SoftwareRelease, SoftwareReleaseList, SoftwareReleasePut } from '../../protocol/index.ts';
import { getSoftwareRelease, listSoftwareReleases } from '../services/queries.ts';
import { putSoftwareRelease } from '../services/registry.ts';
import { adminRoute } from './auth.ts';
import { body, err, json, notFound, router, SrParams } from './context.ts';

const put = adminRoute({
  method: 'put', path: '/v1/software-releases/{srId}',
  request: { params: SrParams, body: body(SoftwareReleasePut) },
  responses: { 200: json(SoftwareRelease, 'updated'), 201: json(SoftwareRelease, 'created'), 400: err('bad input') },
});

const list = adminRoute({
  method: 'get', path: '/v1/software-releases',
  request: { query: PageQuery },
  responses: { 200: json(SoftwareReleaseList, 'a page of software releases, sorted by id'), 400: err('bad input') },
});

const get = adminRoute({
  method: 'get', path: '/v1/software-releases/{srId}',
  request: { params: SrParams },
  responses: { 200: json(SoftwareRelease, 'the software release'), 404: err('unknown') },
});

export function softwareReleaseRoutes() {
  return router()
    .openapi(put, async (c) => {
      const r = await putSoftwareRelease(c.var.deps, c.req.valid('param').srId, c.req.valid('json'));
      return r.created ? c.json(r.softwareRelease, 201) : c.json(r.softwareRelease, 200);
    })
    .openapi(list, async (c) => c.json(await listSoftwareReleases(c.var.deps, c.req.valid('query')), 200))
    .openapi(get, async (c) => {
      const { srId } = c.req.valid('param');
      const sr = await getSoftwareRelease(c.var.deps, srId);
      if (!sr) throw notFound(`software release ${srId}`);
      return c.json(sr, 200);
    });
}
