// /v1/instance-trees (admin).
import { z } from 'zod';
import { Id, InstanceTree, PageQuery } from '../../protocol/index.ts';
import { getInstanceTree } from '../services/queries.ts';
import { adminRoute } from './auth.ts';
import { ApiError, err, json, router } from './context.ts';

const get = adminRoute({
  method: 'get', path: '/v1/instance-trees/{treeId}',
  request: { params: z.object({ treeId: Id }), query: PageQuery },
  responses: { 200: json(InstanceTree, 'a page of the partitions of the tree, and its colour'), 400: err('bad input'), 404: err('unknown') },
});

export function treeRoutes() {
  return router().openapi(get, async (c) => {
    const { treeId } = c.req.valid('param');
    const tree = await getInstanceTree(c.var.deps, treeId, c.req.valid('query'));
    if (!tree) throw new ApiError(404, 'not_found', `instance tree ${treeId} not found (no partition)`);
    return c.json(tree, 200);
  });
}
