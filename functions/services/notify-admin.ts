// The admin side of notifications: channels, silences and recorded events (routes/channels.ts,
// routes/silences.ts, routes/events.ts). Wire views at the master's clock.
import type {
  Channel,
  ChannelCreated,
  ChannelPut,
  EventDelivery,
  EventType,
  RecordedEvent,
  Silence,
  SilencePut,
} from '../../protocol/events.ts';
import { PAGE_LIMIT_DEFAULT } from '../../protocol/limits.ts';
import { silenceEndsAt, silenceView } from '../domain/silences.ts';
import { applyChannelPut, channelView } from '../notify/channels.ts';
import { isSendable } from '../notify/derive.ts';
import { orderingKey, sequenceKey } from '../notify/queue-rules.ts';
import { deliveryRefKey, type StoredChannel, type StoredEvent, type StoredSilence } from '../store/notify-types.ts';
import type { ServiceDeps } from './deps.ts';
import { fitting } from './queries.ts';

type Deps = Pick<ServiceDeps, 'store' | 'now'>;

export interface PageArgs {
  limit?: number | undefined;
  cursor?: string | undefined;
}

const page = (p: PageArgs) => ({ limit: p.limit ?? PAGE_LIMIT_DEFAULT, cursor: p.cursor });

// ---------------------------------------------------------------- channels
function wireChannel(c: StoredChannel, backlog: number): Channel {
  return { ...channelView(c, backlog), dead: { count: c.deadCount, last: c.lastDead } };
}

export type PutChannelOutcome = { outcome: 'saved'; created: boolean; channel: ChannelCreated } | { outcome: 'conflict' };

/** Creates or replaces a channel; a new webhook without a secret gets one, shown once. */
export async function putChannel(deps: Deps, channelId: string, body: ChannelPut): Promise<PutChannelOutcome> {
  const existing = await deps.store.getChannel(channelId);
  const { record, created, generatedSecret } = applyChannelPut(channelId, body, existing, deps.now());
  const stored: StoredChannel = { ...record, deadCount: existing?.deadCount ?? 0, lastDead: existing?.lastDead ?? null };
  if (!(await deps.store.putChannel(stored, existing ? existing.updatedAt : null))) return { outcome: 'conflict' };
  const backlog = created ? 0 : await deps.store.countDeliveries(channelId);
  const view = wireChannel(stored, backlog);
  return { outcome: 'saved', created, channel: generatedSecret ? { ...view, secret: generatedSecret } : view };
}

export async function getChannel(deps: Deps, channelId: string): Promise<Channel | null> {
  const c = await deps.store.getChannel(channelId);
  return c ? wireChannel(c, await deps.store.countDeliveries(channelId)) : null;
}

/** A page of channels (backlogs counted per channel: channels are few). */
export async function listChannels(deps: Deps, p: PageArgs): Promise<{ channels: Channel[]; nextCursor: string | null }> {
  const r = await deps.store.listChannels({ ...page(p), accept: fitting((c) => wireChannel(c, 0)) });
  const channels = await Promise.all(r.items.map(async (c) => wireChannel(c, await deps.store.countDeliveries(c.channelId))));
  return { channels, nextCursor: r.next };
}

/** Deletes a channel and drops its queue; false when there was none. */
export async function deleteChannel(deps: Deps, channelId: string): Promise<{ deleted: boolean; dropped: number }> {
  if (!(await deps.store.deleteChannel(channelId))) return { deleted: false, dropped: 0 };
  return { deleted: true, dropped: await deps.store.dropDeliveries(channelId) };
}

// ---------------------------------------------------------------- silences
/** A silence is kept (listed) this long after it ends. */
export const SILENCE_KEPT_SECONDS = 30 * 86_400;

const keptUntil = (s: Pick<StoredSilence, 'endsAt' | 'endedAt'>) => Math.floor(silenceEndsAt(s).getTime() / 1000) + SILENCE_KEPT_SECONDS;

/** Creates or replaces a silence (an ended one stays ended). */
export async function putSilence(deps: Deps, silenceId: string, body: SilencePut): Promise<{ created: boolean; silence: Silence }> {
  const now = deps.now();
  const existing = await deps.store.getSilence(silenceId);
  const s: StoredSilence = {
    silenceId,
    match: body.match,
    startsAt: new Date(body.startsAt).toISOString(),
    endsAt: new Date(body.endsAt).toISOString(),
    reason: body.reason,
    endedAt: existing?.endedAt ?? null,
    createdAt: existing?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
  await deps.store.putSilence(s, keptUntil(s));
  return { created: existing === null, silence: silenceView(s, now) };
}

export async function getSilence(deps: Deps, silenceId: string): Promise<Silence | null> {
  const s = await deps.store.getSilence(silenceId);
  return s ? silenceView(s, deps.now()) : null;
}

export async function listSilences(deps: Deps, p: PageArgs & { active?: boolean }): Promise<{ silences: Silence[]; nextCursor: string | null }> {
  const now = deps.now();
  const r = await deps.store.listSilences({ ...page(p), accept: fitting((s) => silenceView(s, now)), ...(p.active ? { activeAt: now.toISOString() } : {}) });
  return { silences: r.items.map((s) => silenceView(s, now)), nextCursor: r.next };
}

/** Ends a silence now (DELETE); it stays listed. null: no such silence. */
export async function endSilence(deps: Deps, silenceId: string): Promise<Silence | null> {
  const now = deps.now();
  const at = now.toISOString();
  const s = await deps.store.endSilence(silenceId, at, keptUntil({ endsAt: at, endedAt: at }));
  return s ? silenceView(s, now) : null;
}

// ---------------------------------------------------------------- recorded events
/** Recorded events, newest first, with what each channel decided and where its delivery is. */
export async function listEvents(
  deps: Deps,
  q: PageArgs & { partitionId?: string | undefined; computerId?: string | undefined; type?: EventType | undefined },
): Promise<{ events: RecordedEvent[]; nextCursor: string | null }> {
  // sized as recorded plus each delivery's state (under 100 bytes a channel)
  const accept = fitting((e: StoredEvent) => ({ event: e.event, routes: e.routes, pad: ' '.repeat(100 * (e.routes?.length ?? 0)) }));
  const r = await deps.store.listEvents({ ...page(q), partitionId: q.partitionId, computerId: q.computerId, type: q.type, accept });
  const sends = r.items.flatMap((e) =>
    (e.routes ?? [])
      .filter((x) => x.action === 'send')
      .map((x) => ({ channelId: x.channelId, eventId: e.event.eventId, key: orderingKey(e.event), seq: sequenceKey(e.event.at, e.ordinal, e.event.eventId) })),
  );
  const [queued, dead] = await Promise.all([deps.store.queuedDeliveries(sends), deps.store.deadDeliveriesOf(sends)]);
  return { events: r.items.map((e) => recordedEvent(e, queued, dead)), nextCursor: r.next };
}

function recordedEvent(e: StoredEvent, queued: Map<string, { attempts: number; nextAttemptAt: string }>, dead: Set<string>): RecordedEvent {
  const deliveries =
    e.routes?.map((r): EventDelivery => {
      if (r.action !== 'send') return { channelId: r.channelId, action: r.action, ...(r.reason ? { reason: r.reason } : {}) };
      const q = queued.get(deliveryRefKey({ channelId: r.channelId, key: orderingKey(e.event), seq: sequenceKey(e.event.at, e.ordinal, e.event.eventId) }));
      if (q) return { channelId: r.channelId, action: 'send', state: 'queued', attempts: q.attempts, nextAttemptAt: q.nextAttemptAt };
      return { channelId: r.channelId, action: 'send', state: dead.has(`${e.event.eventId} ${r.channelId}`) ? 'dead' : 'delivered' };
    }) ?? null;
  return { event: e.event, recordedAt: e.recordedAt, sendable: isSendable(e.event), deliveries };
}
