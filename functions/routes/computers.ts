// /v1/computers (admin) and a computer's heartbeat (its own token).
import { Computer, ComputerList, ComputerPut, ComputerToken, HeartbeatRequest, HeartbeatResponse } from '../../protocol/index.ts';
import { heartbeat } from '../services/heartbeat.ts';
import { getComputer, listComputers } from '../services/queries.ts';
import { registerComputer, rotateComputerToken } from '../services/registry.ts';
import { adminRoute, authRoute, heartbeatAuth } from './auth.ts';
import { ApiError, body, ComputerParams, err, json, notFound, router } from './context.ts';

const put = adminRoute({
  method: 'put', path: '/v1/computers/{computerId}',
  request: { params: ComputerParams, body: body(ComputerPut, false) },
  responses: { 201: json(ComputerToken, 'registered: the token is shown only now'), 200: json(Computer, 'updated'), 400: err('bad input') },
});

const rotateToken = adminRoute({
  method: 'post', path: '/v1/computers/{computerId}/token',
  request: { params: ComputerParams },
  responses: { 200: json(ComputerToken, 'the new token (the old one stops working)'), 404: err('unknown computer') },
});

const list = adminRoute({ method: 'get', path: '/v1/computers', responses: { 200: json(ComputerList, 'all computers') } });

const get = adminRoute({
  method: 'get', path: '/v1/computers/{computerId}',
  request: { params: ComputerParams },
  responses: { 200: json(Computer, 'the computer'), 404: err('unknown') },
});

const beat = authRoute(heartbeatAuth, {
  method: 'post', path: '/v1/computers/{computerId}/heartbeat',
  request: { params: ComputerParams, body: body(HeartbeatRequest) },
  responses: { 200: json(HeartbeatResponse, 'reprocess flags and the partitions of this computer'), 400: err('bad input') },
});

export function computerRoutes() {
  return router()
    .openapi(put, async (c) => {
      const { computerId } = c.req.valid('param');
      const r = await registerComputer(c.var.deps, computerId, c.req.valid('json') ?? {});
      if (r.outcome === 'registered') return c.json(r.token, 201);
      if (r.outcome === 'conflict') throw new ApiError(409, 'conflict', `computer ${computerId} changed concurrently, retry`);
      return c.json(r.computer, 200);
    })
    .openapi(rotateToken, async (c) => {
      const { computerId } = c.req.valid('param');
      const token = await rotateComputerToken(c.var.deps, computerId);
      if (!token) throw notFound(`computer ${computerId}`);
      return c.json(token, 200);
    })
    .openapi(list, async (c) => c.json({ computers: await listComputers(c.var.deps), nextCursor: null }, 200))
    .openapi(get, async (c) => {
      const { computerId } = c.req.valid('param');
      const computer = await getComputer(c.var.deps, computerId);
      if (!computer) throw notFound(`computer ${computerId}`);
      return c.json(computer, 200);
    })
    .openapi(beat, async (c) => c.json(await heartbeat(c.var.deps, { computer: c.var.computer, partitions: c.var.partitions }, c.req.valid('json')), 200));
}
