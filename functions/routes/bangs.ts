// A partition's bang (its computer's token, or the admin's: a manual bang) and /v1/bangs (admin).
import { BangList, BangListQuery, BangRequest, BangResponse } from '../../protocol/index.ts';
import { acceptBang } from '../services/bangs.ts';
import { listBangs } from '../services/queries.ts';
import { adminRoute, authRoute, partitionAuth } from './auth.ts';
import { ApiError, body, err, json, PartitionParams, router } from './context.ts';

const list = adminRoute({
  method: 'get', path: '/v1/bangs',
  request: { query: BangListQuery },
  responses: { 200: json(BangList, 'a page of bangs, newest first'), 400: err('bad input') },
});

const bang = authRoute(partitionAuth(true), {
  method: 'post', path: '/v1/partitions/{partitionId}/bang',
  request: { params: PartitionParams, body: body(BangRequest) },
  responses: {
    202: json(BangResponse, 'accepted: the instance tree will be reprocessed'),
    400: err('bad input'),
    404: err('unknown partition (admin)'),
    429: err('over the daily bang quota of the software release; see Retry-After'),
  },
});

export function bangRoutes() {
  return router()
    .openapi(bang, async (c) => {
      const p = c.var.partition;
      const r = await acceptBang(c.var.deps, p, c.req.valid('json'));
      if (r.outcome === 'over-quota') {
        throw new ApiError(
          429,
          'too_many_bangs',
          `partition ${p.partitionId} used its ${r.quotaPerDay} bangs of ${r.day} (software release ${p.softwareReleaseId}); retry after ${r.retryAt}`,
          { quotaPerDay: r.quotaPerDay, day: r.day, retryAfterSeconds: r.retryAfterSeconds },
          { 'Retry-After': String(r.retryAfterSeconds) },
        );
      }
      return c.json({ bangId: r.bangId, fannedOutTo: r.fannedOutTo }, 202);
    })
    .openapi(list, async (c) => c.json(await listBangs(c.var.deps, c.req.valid('query')), 200));
}
