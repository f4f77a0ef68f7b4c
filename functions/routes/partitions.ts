// /v1/partitions (admin) and a partition's reports (its computer's token).
import { z } from 'zod';
import { PageQuery, Partition, PartitionDetail, PartitionList, PartitionListQuery, PartitionPromises, PartitionPut, ReportRequest, ReportResponse } from '../../protocol/index.ts';
import { getPartition, getPartitionPromises, listPartitions } from '../services/queries.ts';
import { assignPartition } from '../services/registry.ts';
import { ingestReport } from '../services/reports.ts';
import { adminRoute, authRoute, partitionAuth } from './auth.ts';
import { ApiError, body, err, json, notFound, PartitionParams, router } from './context.ts';

const put = adminRoute({
  method: 'put', path: '/v1/partitions/{partitionId}',
  request: {
    params: PartitionParams,
    query: z.object({
      move: z.enum(['true', 'false', '1', '0']).optional().describe('true: allow moving the partition to another computer'),
    }),
    body: body(PartitionPut),
  },
  responses: {
    200: json(Partition, 'updated'),
    201: json(Partition, 'created'),
    400: err('bad input'),
    404: err('unknown computer or software release'),
    409: err('the partition is on another computer (add ?move=true to move it)'),
  },
});

const report = authRoute(partitionAuth(false), {
  method: 'post', path: '/v1/partitions/{partitionId}/reports',
  request: { params: PartitionParams, body: body(ReportRequest) },
  responses: { 202: json(ReportResponse, 'recorded (or already recorded)'), 400: err('bad input') },
});

const list = adminRoute({
  method: 'get', path: '/v1/partitions',
  request: { query: PartitionListQuery },
  responses: {
    200: json(PartitionList, 'a page of partitions, sorted by id (colour=red: by tree, then id); filters combine'),
    400: err('bad input (query.cursor: a cursor of another list or filters)'),
  },
});

const get = adminRoute({
  method: 'get', path: '/v1/partitions/{partitionId}',
  request: { params: PartitionParams },
  responses: { 200: json(PartitionDetail, 'the partition, with its bang quota use today'), 404: err('unknown') },
});

const promises = adminRoute({
  method: 'get', path: '/v1/partitions/{partitionId}/promises',
  request: { params: PartitionParams, query: PageQuery },
  responses: {
    200: json(PartitionPromises, 'a page of reports, newest first, with the latest result of every promise on every page'),
    400: err('bad input'),
    404: err('unknown'),
  },
});

export function partitionRoutes() {
  return router()
    .openapi(list, async (c) => c.json(await listPartitions(c.var.deps, c.req.valid('query')), 200))
    .openapi(put, async (c) => {
      const { partitionId } = c.req.valid('param');
      const { move } = c.req.valid('query');
      const b = c.req.valid('json');
      const r = await assignPartition(c.var.deps, partitionId, b, move === 'true' || move === '1');
      switch (r.outcome) {
        case 'elsewhere':
          throw new ApiError(
            409,
            'conflict',
            `partition ${partitionId} is on computer ${r.computerId}, not ${b.computerId} (body.computerId); PUT with ?move=true to move it`,
            { computerId: r.computerId },
          );
        case 'missing':
          throw r.missing === 'computer'
            ? new ApiError(404, 'not_found', `computer ${b.computerId} not found (body.computerId)`)
            : new ApiError(404, 'not_found', `software release ${b.softwareReleaseId} not found (body.softwareReleaseId)`);
        case 'created':
          return c.json(r.partition, 201);
        default:
          return c.json(r.partition, 200);
      }
    })
    .openapi(get, async (c) => {
      const { partitionId } = c.req.valid('param');
      const p = await getPartition(c.var.deps, partitionId);
      if (!p) throw notFound(`partition ${partitionId}`);
      return c.json(p, 200);
    })
    .openapi(promises, async (c) => {
      const { partitionId } = c.req.valid('param');
      const r = await getPartitionPromises(c.var.deps, partitionId, c.req.valid('query'));
      if (!r) throw notFound(`partition ${partitionId}`);
      return c.json(r, 200);
    })
    .openapi(report, async (c) => c.json(await ingestReport(c.var.deps, c.var.partition, c.req.valid('json')), 202));
}
