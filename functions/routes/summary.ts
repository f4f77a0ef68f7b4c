// GET /v1/summary (admin): the fleet's colour counts, one read whatever the fleet's size.
import { Summary } from '../../protocol/index.ts';
import { getSummary } from '../services/queries.ts';
import { adminRoute } from './auth.ts';
import { json, router } from './context.ts';

const get = adminRoute({
  method: 'get', path: '/v1/summary',
  responses: { 200: json(Summary, 'colour counts of computers and partitions as of the last sweep (at most a minute old)') },
});

export function summaryRoutes() {
  return router().openapi(get, async (c) => c.json(await getSummary(c.var.deps), 200));
}
