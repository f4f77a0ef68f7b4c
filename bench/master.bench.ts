// Master numbers (SPEC §5), on the local stack (dynalite in memory + fauxqs):
//  - DynamoDB requests per heartbeat / report / bang / sweep, counted by an SDK middleware;
//  - bang → every partition of a 1,000-partition tree flagged for reprocess (through the
//    queue and the fan-out consumer, as in `vigil master`).
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import { createApp } from '../functions/app.ts';
import { createVigilClient } from '../protocol/client.ts';
import { consumeBangMessage, fanOutBang } from '../functions/services/fanout.ts';
import { assignPartition } from '../functions/services/registry.ts';
import { createSqsBangQueue, pollBangQueue } from '../functions/queue.ts';
import { mapLimit } from '../functions/lib/concurrency.ts';
import { createDynamoStore } from '../functions/store/dynamo.ts';
import { tableDefinition } from '../functions/store/table.ts';
import { runSweep } from '../functions/services/sweep.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';
const TREE = 1000;

const db = dynalite({ createTableMs: 0 });
await new Promise<void>((r) => db.listen(0, '127.0.0.1', () => r()));
const dynamo = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(db.address() as AddressInfo).port}`, region, credentials });
const counts: Record<string, number> = {};
dynamo.middlewareStack.add(
  (next, context) => async (args) => {
    const n = String((context as { commandName?: string }).commandName);
    counts[n] = (counts[n] ?? 0) + 1;
    return next(args);
  },
  { step: 'finalizeRequest', name: 'benchCounter' },
);
const reset = () => {
  for (const k of Object.keys(counts)) delete counts[k];
};
const total = () => Object.values(counts).reduce((a, b) => a + b, 0);
await dynamo.send(new CreateTableCommand(tableDefinition('vigil')));
const fauxqs = await startFauxqs({ port: 0, logger: false });
const sqs = new SQSClient({ endpoint: fauxqs.address, region, credentials });
const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'bangs' }))).QueueUrl as string;
const store = createDynamoStore({ client: dynamo, tableName: 'vigil' });
// The master clock: real time, moved ahead by `skew` for the heartbeat series below.
let skew = 0;
const now = () => new Date(Date.now() + skew);
const app = createApp({ store, queue: createSqsBangQueue({ client: sqs, queueUrl }), now, adminToken: () => 'bench', dashboard: false });

const admin = createVigilClient({ fetch: (path, init) => app.request(path, init), token: 'bench' });
const as = (i: number) => admin.withToken(tokens[i] ?? null);

await admin.putSoftwareRelease('sr', { url: 'https://example.com/sr', bangQuotaPerDay: 100 });
const tokens: string[] = [];
for (let c = 0; c < 10; c++) {
  const r = await admin.putComputer(`node-${c}`);
  if (!r.created) throw new Error(`node-${c} existed`);
  tokens.push(r.token.token);
}
await mapLimit(
  Array.from({ length: TREE }, (_, i) => i),
  16,
  (i) => assignPartition({ store, now }, `p-${i}`, { computerId: `node-${i % 10}`, instanceTreeId: 'tree', softwareReleaseId: 'sr' }, true),
);
const rows: [string, string][] = [];

// Heartbeat of a computer with 100 partitions.
reset();
const hbT0 = performance.now();
await as(0).heartbeat('node-0', { agentVersion: 'bench' });
rows.push(['DynamoDB requests per heartbeat (100 partitions)', `${total()} ${JSON.stringify(counts)} in ${(performance.now() - hbT0).toFixed(1)} ms`]);

for (const [i, n] of [10, 24, 100].entries()) {
  const at = new Date().toISOString();
  const promises = Array.from({ length: n }, (_, k) => ({ name: `p${k}.json`, title: `p${k}`, kind: 'test' as const, failed: false, message: 'ok', date: at, executionTimeMs: 1 }));
  reset();
  await as(0).report(`p-${(i + 1) * 10}`, { reportId: `r${n}`, kind: 'instantiation', startedAt: at, durationMs: 10, ok: true, promises });
  rows.push([`DynamoDB requests per report (${n} promises)`, `${total()} ${JSON.stringify(counts)} (history batches: ${Math.ceil((n + 1) / 25)})`]);
}

// Bang → 1,000 partitions flagged, through the queue and the consumer.
const abort = new AbortController();
let fannedOut: (ms: number) => void = () => {};
let t0 = 0;
let received = 0;
const done = new Promise<number>((r) => {
  fannedOut = r;
});
const poller = pollBangQueue({
  client: sqs,
  queueUrl,
  signal: abort.signal,
  waitTimeSeconds: 1,
  handle: async (body) => {
    received = performance.now() - t0;
    const { result: r } = await consumeBangMessage({ store, now }, body);
    if (r.flagged === TREE) fannedOut(performance.now() - t0);
  },
});
reset();
t0 = performance.now();
await as(0).bang('p-0', { bangId: 'bench-bang', message: 'bench', source: 'manual' });
const bangRequests = total();
const fanMs = await done;
rows.push(['DynamoDB requests per bang (API call)', `${bangRequests}`]);
rows.push([`bang → ${TREE} partitions flagged (queue + fan-out, dynalite)`, `${fanMs.toFixed(0)} ms (message received after ${received.toFixed(0)} ms; budget 2000 ms)`]);
rows.push([`DynamoDB requests for the fan-out of ${TREE}`, `${total() - bangRequests}`]);
abort.abort();
await poller;

// Direct fan-out (no queue), second tree of the same size.
await mapLimit(
  Array.from({ length: TREE }, (_, i) => i),
  16,
  (i) => assignPartition({ store, now }, `q-${i}`, { computerId: `node-${i % 10}`, instanceTreeId: 'tree2', softwareReleaseId: 'sr' }, true),
);
const f0 = performance.now();
const fr = await fanOutBang({ store, now }, { bangId: 'direct', partitionId: 'q-0', computerId: 'node-0', instanceTreeId: 'tree2', requestedAt: now().toISOString(), reason: 'bench' });
rows.push([`fanOutBang() alone, ${fr.total} partitions`, `${(performance.now() - f0).toFixed(0)} ms`]);

// Sweep with nothing due vs. with the 2,000 flagged partitions due.
reset();
const s0 = performance.now();
const sw = await runSweep({ store }, now());
rows.push([`sweep after the bangs (${sw.examined} items due, ${sw.changed} changed)`, `${total()} requests ${JSON.stringify(counts)} in ${(performance.now() - s0).toFixed(0)} ms`]);
reset();
const sw2 = await runSweep({ store }, now());
rows.push([`sweep with nothing due (fleet of ${2 * TREE} partitions, 10 computers)`, `${total()} request(s), ${sw2.examined} items read`]);

// Heartbeats every 60 s (clock moved, not waited): how often the computer's sweep key (an
// index key: two index writes per move) is rewritten, and what the sweep reads meanwhile.
const HB = 20;
const keysSeen: string[] = [];
let sweepReads = 0;
const sweepChanges: string[] = [];
for (let i = 0; i < HB; i++) {
  skew += 60_000;
  await as(1).heartbeat('node-1', { agentVersion: 'bench' });
  const key = (await store.getComputer('node-1'))?.sweepAt ?? null;
  if (key && key !== keysSeen.at(-1)) keysSeen.push(key);
  const sr = await runSweep({ store }, now());
  sweepReads += sr.examined;
  sweepChanges.push(...sr.transitions.map((t) => `${t.id} ${t.from}→${t.to}`));
}
rows.push([`sweep key moves over ${HB} heartbeats 60 s apart`, `${keysSeen.length} (1 per heartbeat before the lazy key); a sweep after each heartbeat read ${sweepReads} item(s) in all (${sweepChanges.join(', ') || 'no change'})`]);

for (const [k, v] of rows) console.log(`${k.padEnd(70)} ${v}`);
await fauxqs.stop();
dynamo.destroy();
sqs.destroy();
await new Promise<void>((r) => db.close(() => r()));
