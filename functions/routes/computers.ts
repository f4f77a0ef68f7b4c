// /v1/computers (admin) and a computer's heartbeat (its own token).
import { createRoute } from '@hono/zod-openapi';
import { Computer, ComputerList, ComputerPut, ComputerToken, HeartbeatRequest, HeartbeatResponse } from '../../protocol/index.ts';
import { heartbeat } from '../services/heartbeat.ts';
import { getComputer, listComputers } from '../services/queries.ts';
import { registerComputer, rotateComputerToken } from '../services/registry.ts';
import { heartbeatAuth, requireAdmin } from './auth.ts';
import { ApiError, authErrors, body, ComputerParams, err, json, notFound, router, security } from './context.ts';

const put = createRoute({
  method: 'put',
  path: '/v1/computers/{computerId}',
  security,
  middleware: [requireAdmin] as const,
  request: { params: ComputerParams, body: body(ComputerPut, false) },
  responses: {
    201: json(ComputerToken, 'registered: the token is shown only now'),
    200: json(Computer, 'updated'),
    400: err('bad input'),
    ...authErrors,
  },
});

const rotateToken = createRoute({
  method: 'post',
  path: '/v1/computers/{computerId}/token',
  security,
  middleware: [requireAdmin] as const,
  request: { params: ComputerParams },
  responses: { 200: json(ComputerToken, 'the new token (the old one stops working)'), 404: err('unknown computer'), ...authErrors },
});

const list = createRoute({
  method: 'get',
  path: '/v1/computers',
  security,
  middleware: [requireAdmin] as const,
  responses: { 200: json(ComputerList, 'all computers'), ...authErrors },
});

const get = createRoute({
  method: 'get',
  path: '/v1/computers/{computerId}',
  security,
  middleware: [requireAdmin] as const,
  request: { params: ComputerParams },
  responses: { 200: json(Computer, 'the computer'), 404: err('unknown'), ...authErrors },
});

const beat = createRoute({
  method: 'post',
  path: '/v1/computers/{computerId}/heartbeat',
  security,
  middleware: [heartbeatAuth] as const,
  request: { params: ComputerParams, body: body(HeartbeatRequest) },
  responses: { 200: json(HeartbeatResponse, 'reprocess flags and the partitions of this computer'), 400: err('bad input'), ...authErrors },
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
    .openapi(list, async (c) => c.json({ computers: await listComputers(c.var.deps) }, 200))
    .openapi(get, async (c) => {
      const { computerId } = c.req.valid('param');
      const computer = await getComputer(c.var.deps, computerId);
      if (!computer) throw notFound(`computer ${computerId}`);
      return c.json(computer, 200);
    })
    .openapi(beat, async (c) => c.json(await heartbeat(c.var.deps, { computer: c.var.computer, partitions: c.var.partitions }, c.req.valid('json')), 200));
}
