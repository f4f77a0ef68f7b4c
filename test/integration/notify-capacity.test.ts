// DynamoDB capacity units of notifications, MEASURED on DynamoDB Local
// (ReturnConsumedCapacity=INDEXES, test/helpers/capacity.ts): publishing events (the outbox
// write, routing, queue items) and delivering them (the worker's passes), per 1,000 events,
// with one webhook channel answering 200. docs/notifications.md "Cost" quotes these figures.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bangAcceptedEvent } from '../../functions/notify/derive.ts';
import { putChannel } from '../../functions/services/notify-admin.ts';
import { deliverDue } from '../../functions/services/notify-deliver.ts';
import { publishEvents } from '../../functions/services/notify-publish.ts';
import { createDynamoStore } from '../../functions/store/dynamo.ts';
import type { Store } from '../../functions/store/types.ts';
import type { VigilEvent } from '../../protocol/events.ts';
import { type AwsFixture, createAwsFixture } from '../helpers/aws.ts';
import { type CapacityMeter, meterCapacity, type Units } from '../helpers/capacity.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';

const N = 200;
let aws: AwsFixture;
let store: Store;
let meter: CapacityMeter;
let rx: Receiver;
const now = new Date('2025-06-04T10:00:00.000Z');
const deps = () => ({ store, now: () => now, notify: { baseUrl: 'https://vigil.example.com' } });

function events(prefix: string): VigilEvent[] {
  return Array.from({ length: N }, (_, i) =>
    bangAcceptedEvent({
      bang: { bangId: `${prefix}-${i}`, partitionId: `${prefix}-p${i % 50}`, computerId: 'COMP-CAP', instanceTreeId: 'tree-cap', source: 'promise', message: 'check-site: 3 failures in a row' },
      fannedOutTo: 10,
      partitionIds: Array.from({ length: 10 }, (_, k) => `${prefix}-p${k}`),
      partitionCount: 10,
      at: new Date(now.getTime() + i).toISOString(),
      silences: [],
      baseUrl: 'https://vigil.example.com',
    }),
  );
}

const per1000 = (u: Units) => ({ read: Math.round((u.read * 1000) / N), write: Math.round((u.write * 1000) / N + (u.refusedWrites * 1000) / N) });

beforeAll(async () => {
  aws = await createAwsFixture();
  meter = meterCapacity(aws.dynamo);
  store = createDynamoStore({ client: aws.dynamo, tableName: aws.tableName });
  rx = await startReceiver({ kind: 'status', status: 200 });
});
afterAll(async () => {
  await rx?.close();
  await aws?.dispose();
});

it(`units per 1,000 events: recorded with no channel, and published + delivered to one webhook`, async () => {
  const alone = await meter.measure(() => publishEvents(deps(), events('none')));
  expect(alone.result.recorded).toBe(N);

  await putChannel({ store, now: () => now }, 'cap', { kind: 'webhook', url: `${rx.url}/cap` });
  const pub = await meter.measure(() => publishEvents(deps(), events('one')));
  expect(pub.result.queued).toBe(N);
  const del = await meter.measure(async () => {
    for (let i = 0; i < 100; i++) {
      const r = await deliverDue(deps(), now, { concurrency: 8, random: () => 0 });
      if (!r.nextWakeAt || r.nextWakeAt > now) break;
    }
  });
  expect(rx.requests).toHaveLength(N);
  const rows = { recordOnly: per1000(alone.units), publish: per1000(pub.units), deliver: per1000(del.units) };
  const total = { read: rows.publish.read + rows.deliver.read, write: rows.publish.write + rows.deliver.write };
  console.log(
    `notify capacity per 1,000 events (measured, DynamoDB Local): recorded only ${rows.recordOnly.write} WCU + ${rows.recordOnly.read} RCU; ` +
      `one webhook: publish ${rows.publish.write} WCU + ${rows.publish.read} RCU, deliver ${rows.deliver.write} WCU + ${rows.deliver.read} RCU, ` +
      `total ${total.write} WCU + ${total.read} RCU`,
    JSON.stringify({ publish: pub.units.byTarget, deliver: del.units.byTarget, requests: del.units.requests }),
  );
  // budgets (docs/notifications.md "Cost"): a notification costs a few units, not tens
  expect(total.write).toBeLessThanOrEqual(15_000);
  expect(total.read).toBeLessThanOrEqual(6_000);
}, 120_000);
