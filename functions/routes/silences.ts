// /v1/silences (admin): matching events are recorded, not sent (SPEC §3 "Notifications").
import { z } from 'zod';
import { Silence, SilenceList, SilenceListQuery, SilencePut } from '../../protocol/events.ts';
import { Id } from '../../protocol/index.ts';
import { endSilence, getSilence, listSilences, putSilence } from '../services/notify-admin.ts';
import { adminRoute } from './auth.ts';
import { body, err, json, notFound, router } from './context.ts';

const SilenceParams = z.object({ silenceId: Id });

const put = adminRoute({
  method: 'put', path: '/v1/silences/{silenceId}',
  request: { params: SilenceParams, body: body(SilencePut) },
  responses: { 200: json(Silence, 'updated'), 201: json(Silence, 'created'), 400: err('bad input') },
});

const list = adminRoute({
  method: 'get', path: '/v1/silences',
  request: { query: SilenceListQuery },
  responses: { 200: json(SilenceList, 'silences (ended ones stay listed for 30 days), by id'), 400: err('bad input') },
});

const get = adminRoute({
  method: 'get', path: '/v1/silences/{silenceId}',
  request: { params: SilenceParams },
  responses: { 200: json(Silence, 'the silence'), 404: err('unknown') },
});

const end = adminRoute({
  method: 'delete', path: '/v1/silences/{silenceId}',
  request: { params: SilenceParams },
  responses: { 200: json(Silence, 'ended now (endedAt set; it stays listed)'), 404: err('unknown') },
});

export function silenceRoutes() {
  return router()
    .openapi(put, async (c) => {
      const r = await putSilence(c.var.deps, c.req.valid('param').silenceId, c.req.valid('json'));
      return r.created ? c.json(r.silence, 201) : c.json(r.silence, 200);
    })
    .openapi(list, async (c) => {
      const q = c.req.valid('query');
      return c.json(await listSilences(c.var.deps, { limit: q.limit, cursor: q.cursor, active: q.active === 'true' }), 200);
    })
    .openapi(get, async (c) => {
      const { silenceId } = c.req.valid('param');
      const s = await getSilence(c.var.deps, silenceId);
      if (!s) throw notFound(`silence ${silenceId}`);
      return c.json(s, 200);
    })
    .openapi(end, async (c) => {
      const { silenceId } = c.req.valid('param');
      const s = await endSilence(c.var.deps, silenceId);
      if (!s) throw notFound(`silence ${silenceId}`);
      return c.json(s, 200);
    });
}
