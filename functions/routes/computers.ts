// /v1/computers (admin) and a computer's heartbeat (its own token).
import { Computer, ComputerList, ComputerListQuery, ComputerPut, ComputerToken, HeartbeatRequest, HeartbeatResponse } from '../../protocol/index.ts';
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

const list = adminRoute({
  method: 'get', path: '/v1/computers',
  request: { query: ComputerListQuery },
  responses: { 200: json(ComputerList, 'a page of computers, sorted by id'), 400: err('bad input (query.cursor: a cursor of another list or filters)') },
});

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
      // this process may remember the id as unknown
      c.var.tokens.forget(computerId);
      if (r.outcome === 'registered') return c.json(r.token, 201);
      if (r.outcome === 'conflict') throw new ApiError(409, 'conflict', `computer ${computerId} changed concurrently, retry`);
      return c.json(r.computer, 200);
    })
    .openapi(rotateToken, async (c) => {
      const { computerId } = c.req.valid('param');
      const token = await rotateComputerToken(c.var.deps, computerId);
      // the new token works at once here (other processes look it up within TOKEN_RECHECK_MS)
      c.var.tokens.forget(computerId);
      if (!token) throw notFound(`computer ${computerId}`);
      return c.json(token, 200);
    })
    .openapi(list, async (c) => c.json(await listComputers(c.var.deps, c.req.valid('query')), 200))
    .openapi(get, async (c) => {
      const { computerId } = c.req.valid('param');
      const computer = await getComputer(c.var.deps, computerId);
      if (!computer) throw notFound(`computer ${computerId}`);
      return c.json(computer, 200);
    })
    .openapi(beat, async (c) => {
      const { auth, tokens, deps } = c.var;
      const r = await heartbeat(deps, auth, c.req.valid('json'));
      const nowMs = deps.now().getTime();
      if (r.outcome === 'refused') {
        // the token hash changed since this process learnt it (rotated): learn the new one
        if (r.exists === null) tokens.forget(auth.computerId);
        else tokens.learn(auth.computerId, r.tokenHash, nowMs);
        throw new ApiError(401, 'unauthorized', 'invalid token');
      }
      tokens.learn(auth.computerId, auth.tokenHash, nowMs);
      return c.json(r.response, 200);
    });
}
