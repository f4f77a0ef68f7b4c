// /v1/channels (admin): where events are sent (SPEC §3 "Notifications").
import { z } from 'zod';
import { Channel, ChannelCreated, ChannelDeleted, ChannelList, ChannelPut } from '../../protocol/events.ts';
import { Id, PageQuery } from '../../protocol/index.ts';
import { deleteChannel, getChannel, listChannels, putChannel } from '../services/notify-admin.ts';
import { adminRoute } from './auth.ts';
import { ApiError, body, err, json, notFound, router } from './context.ts';

const ChannelParams = z.object({ channelId: Id });

const put = adminRoute({
  method: 'put', path: '/v1/channels/{channelId}',
  request: { params: ChannelParams, body: body(ChannelPut) },
  responses: {
    200: json(Channel, 'updated (a webhook keeps its secret when none is given)'),
    201: json(ChannelCreated, 'created: a generated webhook secret is in `secret`, shown only now'),
    400: err('bad input'),
    409: err('changed concurrently, retry'),
  },
});

const list = adminRoute({
  method: 'get', path: '/v1/channels',
  request: { query: PageQuery },
  responses: { 200: json(ChannelList, 'channels, by id'), 400: err('bad input') },
});

const get = adminRoute({
  method: 'get', path: '/v1/channels/{channelId}',
  request: { params: ChannelParams },
  responses: { 200: json(Channel, 'the channel, its last delivery and its backlog'), 404: err('unknown') },
});

const remove = adminRoute({
  method: 'delete', path: '/v1/channels/{channelId}',
  request: { params: ChannelParams },
  responses: {
    200: json(ChannelDeleted, 'deleted, its queue dropped'),
    404: err('unknown'),
  },
});

export function channelRoutes() {
  return router()
    .openapi(put, async (c) => {
      const { channelId } = c.req.valid('param');
      const r = await putChannel(c.var.deps, channelId, c.req.valid('json'));
      if (r.outcome === 'conflict') throw new ApiError(409, 'conflict', `channel ${channelId} changed concurrently, retry`);
      return r.created ? c.json(r.channel, 201) : c.json(r.channel, 200);
    })
    .openapi(list, async (c) => c.json(await listChannels(c.var.deps, c.req.valid('query')), 200))
    .openapi(get, async (c) => {
      const { channelId } = c.req.valid('param');
      const ch = await getChannel(c.var.deps, channelId);
      if (!ch) throw notFound(`channel ${channelId}`);
      return c.json(ch, 200);
    })
    .openapi(remove, async (c) => {
      const { channelId } = c.req.valid('param');
      const r = await deleteChannel(c.var.deps, channelId);
      if (!r.deleted) throw notFound(`channel ${channelId}`);
      return c.json({ channelId, deleted: true as const, dropped: r.dropped }, 200);
    });
}
