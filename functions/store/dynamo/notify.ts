// Notifications in the table (docs/notifications.md "Storage"):
//   CHANNELS / <channelId>                  a channel (few: read whole by the event path)
//   SILENCES / <silenceId>                  a silence (expires 30 days after its end)
//   EV#<eventId> / #EVENT                   a recorded event (the outbox; expires after 30 days),
//                                           in the eventLog/eventPartition/eventComputer indexes,
//                                           and in notifyDue until it is routed to the channels
//   EV#<eventId> / DEAD#<channelId>         a delivery that died (expires with its event)
//   DQ#<channelId> / <key> <seq>            a queued delivery: one FIFO per (channel, key),
//                                           its head in notifyDue at its next attempt
// Single-item conditional writes only (dynalite has no transactions).
import type { VigilEvent } from '../../../protocol/events.ts';
import { GSI_EVENT_COMPUTER, GSI_EVENT_LOG, GSI_EVENT_PARTITION, GSI_NOTIFY_DUE, type IndexName, notifyIndexKeys, notifyKeys } from '../table.ts';
import { type DueEntry, deliveryRefKey, type NotifyStore, type StoredDelivery, type StoredEvent, type StoredSilence } from '../notify-types.ts';
import { channelFromItem, deliveryFromItem, eventFromItem, silenceFromItem } from './notify-items.ts';
import { type Item, keyOf, loadItems, mapItems, type TableClient } from './table-client.ts';

function deliveryItem(d: StoredDelivery): Item {
  const { dueAt, leasedUntil, leaseId, channelId: _c, key: _k, seq: _s, ...rest } = d;
  return {
    ...notifyKeys.delivery(d.channelId, d.key, d.seq),
    ...rest,
    ...(leasedUntil && leaseId ? { leasedUntil, leaseId } : {}),
    ...(dueAt ? notifyIndexKeys.due(dueAt) : {}),
  };
}

function channelStore(table: TableClient): Pick<NotifyStore, 'getChannel' | 'putChannel' | 'deleteChannel' | 'listChannels' | 'allChannels' | 'recordDeliveryResults'> {
  // strongly consistent: a channel just created must not look deleted to the delivery worker
  const all = () => table.queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': notifyKeys.channelsPk }, ConsistentRead: true });
  return {
    async getChannel(channelId) {
      const i = await table.get(notifyKeys.channel(channelId));
      return i ? channelFromItem(i) : null;
    },
    async putChannel(c, expectedUpdatedAt) {
      const { lastDelivery: _l, deadCount: _d, lastDead: _ld, channelId: _id, ...config } = c;
      if (expectedUpdatedAt === null) {
        return table.create({ ...notifyKeys.channel(c.channelId), ...config, deadCount: 0 });
      }
      // a replace keeps the delivery results the worker writes meanwhile
      const r = await table.update({
        Key: notifyKeys.channel(c.channelId),
        UpdateExpression: 'SET kind = :kind, #url = :url, secret = :secret, events = :events, instanceTreeId = :tree, updatedAt = :u',
        ConditionExpression: 'updatedAt = :seen',
        ExpressionAttributeNames: { '#url': 'url' },
        ExpressionAttributeValues: {
          ':kind': c.kind,
          ':url': c.url,
          ':secret': c.secret,
          ':events': c.events,
          ':tree': c.instanceTreeId,
          ':u': c.updatedAt,
          ':seen': expectedUpdatedAt,
        },
      });
      return r !== false;
    },
    async deleteChannel(channelId) {
      if (!(await table.get(notifyKeys.channel(channelId)))) return false;
      await table.delete(notifyKeys.channel(channelId));
      return true;
    },
    listChannels: (page) =>
      table.listPage({
        scope: 'channels',
        query: { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': notifyKeys.channelsPk } },
        bounds: { fixed: { pk: notifyKeys.channelsPk } },
        load: mapItems(channelFromItem),
        accept: page.accept,
        limit: page.limit,
        cursor: page.cursor,
      }),
    allChannels: async () => (await all()).map(channelFromItem),
    async recordDeliveryResults(channelId, r) {
      const values: Record<string, unknown> = { ':ld': r.lastDelivery };
      let expr = 'SET lastDelivery = :ld';
      if (r.dead > 0) {
        expr += ' ADD deadCount :n';
        values[':n'] = r.dead;
      }
      if (r.lastDead) {
        expr = expr.replace('SET lastDelivery = :ld', 'SET lastDelivery = :ld, lastDead = :dead');
        values[':dead'] = r.lastDead;
      }
      // a deleted channel stays deleted
      await table.update({ Key: notifyKeys.channel(channelId), UpdateExpression: expr, ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: values });
    },
  };
}

function silenceStore(table: TableClient): Pick<NotifyStore, 'getSilence' | 'putSilence' | 'endSilence' | 'listSilences' | 'silencesEndingAfter'> {
  const effectiveEnd = (s: { endsAt: string; endedAt: string | null }) => (s.endedAt !== null && s.endedAt < s.endsAt ? s.endedAt : s.endsAt);
  return {
    async getSilence(silenceId) {
      const i = await table.get(notifyKeys.silence(silenceId));
      return i ? silenceFromItem(i) : null;
    },
    async putSilence(s, expiresAt) {
      const { silenceId: _id, ...attrs } = s;
      await table.put({ ...notifyKeys.silence(s.silenceId), ...attrs, activeUntil: effectiveEnd(s), expiresAt });
    },
    async endSilence(silenceId, at, expiresAt) {
      const r = await table.update({
        Key: notifyKeys.silence(silenceId),
        UpdateExpression: 'SET endedAt = :at, updatedAt = :at, expiresAt = :exp, activeUntil = :end',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(endedAt) OR endedAt = :null)',
        ExpressionAttributeValues: { ':at': at, ':exp': expiresAt, ':null': null, ':end': at },
        ReturnValues: 'ALL_NEW',
      });
      if (r !== false && r !== null) return silenceFromItem(r);
      const i = await table.get(notifyKeys.silence(silenceId));
      return i ? silenceFromItem(i) : null;
    },
    listSilences(page) {
      const at = page.activeAt;
      return table.listPage({
        scope: at === undefined ? 'silences' : 'silences?active',
        query: { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': notifyKeys.silencesPk } },
        bounds: { fixed: { pk: notifyKeys.silencesPk } },
        load: mapItems(silenceFromItem),
        accept: (s: StoredSilence) => (at !== undefined && !(s.startsAt <= at && effectiveEnd(s) > at) ? 'skip' : (page.accept?.(s) ?? 'take')),
        ...(at === undefined ? {} : { filtered: true, budget: 5 * Math.max(page.limit, 100) }),
        limit: page.limit,
        cursor: page.cursor,
      });
    },
    async silencesEndingAfter(at) {
      const items = await table.queryAll({
        KeyConditionExpression: 'pk = :pk',
        ConsistentRead: true,
        FilterExpression: 'activeUntil > :at',
        ExpressionAttributeValues: { ':pk': notifyKeys.silencesPk, ':at': at },
      });
      return items.map(silenceFromItem);
    },
  };
}

function eventStore(table: TableClient): Pick<NotifyStore, 'recordEvent' | 'getEvent' | 'markRouted' | 'listEvents' | 'deadDeliveriesOf' | 'recordDeadDelivery'> {
  return {
    recordEvent: (event: VigilEvent, ordinal, recordedAt, repairAt, expiresAt) =>
      table.create({
        ...notifyKeys.event(event.eventId),
        body: JSON.stringify(event),
        ordinal,
        recordedAt,
        expiresAt,
        ...notifyIndexKeys.event(event),
        ...notifyIndexKeys.due(repairAt),
      }),
    async getEvent(eventId) {
      const i = await table.get(notifyKeys.event(eventId));
      return i ? eventFromItem(i) : null;
    },
    async markRouted(eventId, routes) {
      await table.update({
        Key: notifyKeys.event(eventId),
        UpdateExpression: 'SET routes = :r REMOVE dq, dd',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':r': routes },
      });
    },
    listEvents(f) {
      const [index, attr, value]: [IndexName, string, string] = f.partitionId
        ? [GSI_EVENT_PARTITION, 'ep', f.partitionId]
        : f.computerId
          ? [GSI_EVENT_COMPUTER, 'ec', f.computerId]
          : [GSI_EVENT_LOG, 'el', notifyIndexKeys.eventLogPk];
      const filtered = !!(f.type || (f.partitionId && f.computerId));
      return table.listPage({
        scope: `events:${index}:${value}:${f.type ?? ''}:${f.partitionId && f.computerId ? f.computerId : ''}`,
        index,
        query: { KeyConditionExpression: `${attr} = :v`, ExpressionAttributeValues: { ':v': value }, ScanIndexForward: false },
        bounds: { fixed: { [attr]: value } },
        load: loadItems(table, eventFromItem),
        accept: (e: StoredEvent) =>
          (f.type && e.event.type !== f.type) || (f.partitionId && f.computerId && e.event.computerId !== f.computerId) ? 'skip' : (f.accept?.(e) ?? 'take'),
        ...(filtered ? { filtered: true, budget: 5 * Math.max(f.limit, 100) } : {}),
        limit: f.limit,
        cursor: f.cursor,
      });
    },
    async deadDeliveriesOf(pairs) {
      const out = new Set<string>();
      for (let i = 0; i < pairs.length; i += 100) {
        const found = await table.batchGet(pairs.slice(i, i + 100).map((p) => notifyKeys.deadDelivery(p.eventId, p.channelId)));
        for (const it of found) out.add(`${notifyKeys.eventIdOf(it.pk) ?? ''} ${String(it.channelId)}`);
      }
      return out;
    },
    async recordDeadDelivery(eventId, channelId, d, expiresAt) {
      await table.put({ ...notifyKeys.deadDelivery(eventId, channelId), channelId, ...d, expiresAt });
    },
  };
}

type DeliveryMethods = Omit<NotifyStore, keyof ReturnType<typeof channelStore> | keyof ReturnType<typeof silenceStore> | keyof ReturnType<typeof eventStore>>;

function deliveryStore(table: TableClient): DeliveryMethods {
  const update = async (d: StoredDelivery, expr: string, cond: string, values: Record<string, unknown>) =>
    (await table.update({
      Key: notifyKeys.delivery(d.channelId, d.key, d.seq),
      UpdateExpression: expr,
      ConditionExpression: `leaseId = :lease${cond}`,
      ExpressionAttributeValues: { ':lease': d.leaseId, ...values },
    })) !== false;
  return {
    enqueueDelivery: (d) => table.create(deliveryItem(d)),
    async getDelivery(channelId, key, seq) {
      const i = await table.get(notifyKeys.delivery(channelId, key, seq));
      return i ? deliveryFromItem(i) : null;
    },
    async dueEntries(now, limit) {
      const page = await table.queryPage({
        IndexName: GSI_NOTIFY_DUE,
        KeyConditionExpression: 'dq = :q AND dd <= :now',
        ExpressionAttributeValues: { ':q': notifyIndexKeys.duePk, ':now': now },
        Limit: limit,
      });
      const out: DueEntry[] = [];
      for (const i of page.items) {
        const dueAt = String(i.dd);
        const ref = notifyKeys.deliveryRef(i.pk, i.sk);
        if (ref) out.push({ kind: 'delivery', ...ref, dueAt });
        const eventId = notifyKeys.eventIdOf(i.pk);
        if (eventId) out.push({ kind: 'event', eventId, dueAt });
      }
      return out;
    },
    async earliestDue() {
      const page = await table.queryPage({
        IndexName: GSI_NOTIFY_DUE,
        KeyConditionExpression: 'dq = :q',
        ExpressionAttributeValues: { ':q': notifyIndexKeys.duePk },
        Limit: 1,
      });
      const first = page.items[0];
      return first ? String(first.dd) : null;
    },
    async fifoHead(channelId, key, n) {
      const page = await table.queryPage({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': notifyKeys.deliveriesPk(channelId), ':p': notifyKeys.fifoPrefix(key) },
        ConsistentRead: true,
        Limit: n,
      });
      return page.items.map(deliveryFromItem);
    },
    async leaseDelivery(channelId, key, seq, now, until, leaseId) {
      const r = await table.update({
        Key: notifyKeys.delivery(channelId, key, seq),
        UpdateExpression: 'SET leasedUntil = :until, leaseId = :lease',
        ConditionExpression: 'attribute_exists(pk) AND dd <= :now AND (attribute_not_exists(leasedUntil) OR leasedUntil <= :now)',
        ExpressionAttributeValues: { ':until': until, ':lease': leaseId, ':now': now },
        ReturnValues: 'ALL_NEW',
      });
      return r ? deliveryFromItem(r) : null;
    },
    releaseDelivery: (d, dueAt) =>
      update(d, 'SET dq = :q, dd = :due REMOVE leasedUntil, leaseId', '', { ':q': notifyIndexKeys.duePk, ':due': dueAt }),
    // an item made due by its predecessor's removal (promotedAt) is not put back to sleep
    deferDelivery: (d, dueAt) =>
      update(d, 'SET dq = :q, dd = :due ADD deferrals :one REMOVE leasedUntil, leaseId', ' AND attribute_not_exists(promotedAt)', {
        ':q': notifyIndexKeys.duePk,
        ':due': dueAt,
        ':one': 1,
      }),
    async promoteDelivery(channelId, key, seq, dueAt) {
      await table.update({
        Key: notifyKeys.delivery(channelId, key, seq),
        UpdateExpression: 'SET dq = :q, dd = :due, promotedAt = :due',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':q': notifyIndexKeys.duePk, ':due': dueAt },
      });
    },
    rescheduleDelivery: (d) =>
      update(d, 'SET attempts = :a, firstFailureAt = :f, nextAttemptAt = :n, dq = :q, dd = :n REMOVE leasedUntil, leaseId', '', {
        ':a': d.attempts,
        ':f': d.firstFailureAt,
        ':n': d.nextAttemptAt,
        ':q': notifyIndexKeys.duePk,
      }),
    removeDelivery: (channelId, key, seq) => table.delete(notifyKeys.delivery(channelId, key, seq)),
    countDeliveries: (channelId) => table.count({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': notifyKeys.deliveriesPk(channelId) } }),
    async queuedDeliveries(refs) {
      const out = new Map<string, StoredDelivery>();
      for (let i = 0; i < refs.length; i += 100) {
        for (const it of await table.batchGet(refs.slice(i, i + 100).map((r) => notifyKeys.delivery(r.channelId, r.key, r.seq)))) {
          const d = deliveryFromItem(it);
          out.set(deliveryRefKey(d), d);
        }
      }
      return out;
    },
    async dropDeliveries(channelId) {
      const items = await table.queryAll({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': notifyKeys.deliveriesPk(channelId) },
        ProjectionExpression: 'pk, sk',
      });
      await table.batchDelete(items.map(keyOf));
      return items.length;
    },
  };
}

export function notifyStore(table: TableClient): NotifyStore {
  return { ...channelStore(table), ...silenceStore(table), ...eventStore(table), ...deliveryStore(table) };
}

