// DynamoDB capacity units of notifications, MEASURED on DynamoDB Local
// (ReturnConsumedCapacity=INDEXES, test/helpers/capacity.ts): publishing events (the outbox
// write, routing, queue items) and delivering them (the worker's passes), per 1,000 events,
// with one webhook channel answering 200; and the hook path (issue 13 part B): what recording
// a colour change's event adds to a report, a sweep, a heartbeat. docs/notifications.md
// "Cost" and docs/cost.md "Notifications" quote these figures.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bangAcceptedEvent } from '../../functions/notify/derive.ts';
import { putChannel } from '../../functions/services/notify-admin.ts';
import { deliverDue } from '../../functions/services/notify-deliver.ts';
import { publishEvents } from '../../functions/services/notify-publish.ts';
import { runSweep } from '../../functions/services/sweep.ts';
import { createDynamoStore } from '../../functions/store/dynamo.ts';
import type { Store } from '../../functions/store/types.ts';
import type { VigilEvent } from '../../protocol/events.ts';
import { type AwsFixture, createAwsFixture } from '../helpers/aws.ts';
import { type CapacityMeter, meterCapacity, type Units } from '../helpers/capacity.ts';
import { createTestMaster, type TestMaster } from '../helpers/master.ts';
import { addComputer, addPartition, addSr, report } from '../helpers/master-fleet.ts';
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

/** The figures, written to $VIGIL_NOTIFY_CAPACITY_OUT when set (bench/results/notify-capacity.json: docs/cost.md reads it). */
const results: { per1000Events?: Record<string, { read: number; write: number }>; perEvent?: Record<string, unknown> } = {};

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
  results.per1000Events = rows;
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

describe('the hook path: units per event where colour changes are recorded (one webhook)', () => {
  const C = 20;
  const P = 10;
  let m: TestMaster;
  let meterM: CapacityMeter;
  let hook: Receiver;
  const tokens: string[] = [];
  const cid = (c: number) => `hook-c${String(c).padStart(2, '0')}`;
  const pid = (c: number, j: number) => `hook-p${String(c).padStart(2, '0')}-${j}`;
  const one = (u: Units, n: number) => ({
    read: u.read / n,
    write: (u.write + u.refusedWrites) / n,
    notify: { read: u.byArea.notify.read / n, write: u.byArea.notify.write / n },
    store: { read: u.byArea.store.read / n, write: u.byArea.store.write / n },
  });
  const drain = async () => {
    for (let i = 0; i < 100; i++) {
      const r = await deliverDue(m.deps, m.clock.now(), { concurrency: 8, random: () => 0 });
      if (r.attempted + r.deferred + r.repaired === 0) return;
    }
  };
  const figures: Record<string, ReturnType<typeof one>> = {};

  beforeAll(async () => {
    m = await createTestMaster({ dashboard: false });
    meterM = meterCapacity(m.aws.dynamo);
    hook = await startReceiver({ kind: 'status', status: 204 });
    await addSr(m, 'hook-sr');
    for (let c = 0; c < C; c++) {
      tokens.push(await addComputer(m, cid(c), 86_400));
      for (let j = 0; j < P; j++) await addPartition(m, pid(c, j), cid(c), `hook-tree-${j}`, 'hook-sr');
      await m.as(tokens[c] as string).heartbeat(cid(c), { agentVersion: '1' });
    }
    await m.api.putChannel('hook', { kind: 'webhook', url: `${hook.url}/hook` });
  }, 300_000);
  afterAll(async () => {
    await hook?.close();
    await m?.dispose();
    console.log(`notify hook-path capacity per event (measured, DynamoDB Local, one webhook): ${JSON.stringify(figures)}`);
    results.perEvent = figures;
    const out = process.env.VIGIL_NOTIFY_CAPACITY_OUT;
    if (out) writeFileSync(out, `${JSON.stringify({ measuredAt: new Date().toISOString(), source: 'test/integration/notify-capacity.test.ts', ...results }, null, 2)}\n`);
  });

  it('a report: recorded only (a new partition turning green), sent (turning red), delivered', async () => {
    m.clock.advance(1000);
    const first = await meterM.measure(async () => {
      for (let c = 0; c < C; c++) await m.as(tokens[c] as string).report(pid(c, 0), report(`first-${c}`, m.clock.now()));
    });
    figures.reportRecordedOnly = one(first.units, C);
    m.clock.advance(1000);
    const red = await meterM.measure(async () => {
      for (let c = 0; c < C; c++) await m.as(tokens[c] as string).report(pid(c, 0), report(`red-${c}`, m.clock.now(), [{ name: 'a.json', failed: true, message: 'HTTP 503' }]));
    });
    figures.reportSent = one(red.units, C);
    const del = await meterM.measure(drain);
    expect(hook.requests).toHaveLength(C);
    figures.deliver = one(del.units, C);
    // the report's own units stay within SPEC §5 (5 W + 1 R); its event is a few more
    expect(figures.reportSent.store.write).toBeLessThanOrEqual(5);
    expect(figures.reportSent.store.read).toBeLessThanOrEqual(1);
    expect(figures.reportSent.notify.write).toBeLessThanOrEqual(10);
    expect(figures.reportRecordedOnly.notify.write).toBeLessThanOrEqual(8);
    expect(figures.deliver.write).toBeLessThanOrEqual(6);
  });

  it('a computer going orange with 10 partitions (sweep), and back to green (heartbeat): one event each', async () => {
    // every partition reported once (green), computers in contact
    for (let c = 0; c < C; c++) for (let j = 1; j < P; j++) await m.as(tokens[c] as string).report(pid(c, j), report(`g-${c}-${j}`, m.clock.now()));
    await drain();
    hook.requests.length = 0;
    m.clock.advance(30_000);
    for (let c = 0; c < C; c++) await m.as(tokens[c] as string).heartbeat(cid(c), { agentVersion: '1' });
    await runSweep(m.deps, m.clock.now());
    m.clock.advance(30_000);
    const quiet = await meterM.measure(() => runSweep(m.deps, m.clock.now()));
    m.clock.advance(6 * 60_000);
    const orange = await meterM.measure(() => runSweep(m.deps, m.clock.now()));
    expect(orange.result.transitions.filter((t) => t.type === 'computer')).toHaveLength(C);
    const diff = (a: Units, b: Units): Units => ({
      ...a,
      read: a.read - b.read,
      write: a.write - b.write,
      refusedWrites: a.refusedWrites - b.refusedWrites,
      byArea: { store: { read: a.byArea.store.read - b.byArea.store.read, write: a.byArea.store.write - b.byArea.store.write }, notify: a.byArea.notify },
    });
    figures.sweepComputerEvent = one(diff(orange.units, quiet.units), C);
    await drain();
    expect(hook.requests).toHaveLength(C);
    const back = await meterM.measure(async () => {
      for (let c = 0; c < C; c++) await m.as(tokens[c] as string).heartbeat(cid(c), { agentVersion: '1' });
    });
    figures.heartbeatComputerEvent = one(back.units, C);
    // a steady heartbeat is 0 R + 1 W: the change adds the partitions, the event, the colour write
    expect(figures.heartbeatComputerEvent.read).toBeLessThanOrEqual(3);
    expect(figures.sweepComputerEvent.write).toBeLessThanOrEqual(12);
  });
});
