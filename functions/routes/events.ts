// GET /v1/events (admin): the recorded events (the outbox), newest first, with what each
// channel decided and where each delivery is.
import { EventList, EventListQuery } from '../../protocol/events.ts';
import { listEvents } from '../services/notify-admin.ts';
import { adminRoute } from './auth.ts';
import { err, json, router } from './context.ts';

const list = adminRoute({
  method: 'get', path: '/v1/events',
  request: { query: EventListQuery },
  responses: { 200: json(EventList, 'recorded events, newest first (kept 30 days)'), 400: err('bad input') },
});

export function eventRoutes() {
  return router().openapi(list, async (c) => c.json(await listEvents(c.var.deps, c.req.valid('query')), 200));
}
