// The monthly cost of 1,000 computers × 10 partitions at a 60 s heartbeat, from MEASURED
// DynamoDB capacity units (bench/capacity.bench.ts --json) × stated traffic × us-east-1 list
// prices: writes docs/cost.md (every line shown).
//
//   npx tsx bench/capacity.bench.ts --json bench/results/capacity-1000x10.json
//   npx tsx bench/cost-model.ts bench/results/capacity-1000x10.json [--out docs/cost.md]
//
// Alarms and custom metrics are counted from the synthesized stack (lib/), so the model
// follows the stack.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Template } from 'aws-cdk-lib/assertions';
import { buildVigilApp } from '../lib/app.ts';

interface Units {
  read: number;
  write: number;
  byTarget: Record<string, { read: number; write: number }>;
  requests: Record<string, number>;
  refusedWrites: number;
}
interface Row {
  id: string;
  call: string;
  units: Units;
  note?: string;
  bytes?: number;
  /** Wall time per call in the bench, and that less the time waiting for DynamoDB (the master's own work). */
  ms?: number;
  appMs?: number;
}
interface Bench {
  measuredAt: string;
  fleet: { computers: number; partitionsPerComputer: number };
  itemBytes: { computer: number; partitionGreen: number; partitionRed: number; historyReport10: number };
  rows: Row[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } });
const input = positionals[0] ?? 'bench/results/capacity-1000x10.json';
const bench = JSON.parse(readFileSync(input, 'utf8')) as Bench;

// ------------------------------------------------------------------ prices (us-east-1, list, 2025)
const P = {
  wru: 0.625 / 1e6, // DynamoDB on-demand write request unit
  rru: 0.125 / 1e6, // DynamoDB on-demand read request unit
  storageGbMonth: 0.25,
  pitrGbMonth: 0.2,
  wcuHour: 0.00065, // provisioned
  rcuHour: 0.00013,
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  sqsRequest: 0.4 / 1e6,
  schedulerInvocation: 1.0 / 1e6,
  secret: 0.4,
  secretCalls10k: 0.05,
  metric: 0.3,
  alarmMetric: 0.1,
  logsIngestGb: 0.5,
  transferGb: 0.09,
  transferFreeGb: 100,
};
const HOURS = 730;
const SECONDS = 30 * 86_400;

// ------------------------------------------------------------------ traffic (a 30-day month)
const COMPUTERS = 1000;
const PARTITIONS = COMPUTERS * 10;
const MINUTES = 43_200;
const T = {
  heartbeats: COMPUTERS * MINUTES,
  /** Warm api containers, each recycled this often: a new container learns every computer once. */
  apiContainers: 2,
  containerRestartsPerDay: 12,
  /** Per partition per day: 1 instantiation report (kept), 1 turning red, 1 turning green again. */
  reportsKept: PARTITIONS * 30,
  reportsRed: PARTITIONS * 30,
  reportsRecover: PARTITIONS * 30,
  bangs: 3000,
  treeSize: 10,
  /** Heartbeats of each flagged computer that read its flags (until the agent's report), then one clearing the hint. */
  reprocessHeartbeats: 3,
  sweeps: MINUTES,
  /** Each partition's lazy sweep key comes due about once a day (SR periodicity 1 day): a visit. */
  sweepVisits: PARTITIONS * 30,
  /** Partitions expiring (no report for a day: agent down), 1 % a day. */
  sweepExpiries: (PARTITIONS / 100) * 30,
  /** One dashboard tab open all month, refreshing its page every 30 s (each refresh also reads the summary). */
  dashboardRefreshes: 2 * MINUTES,
  forged: 1_000_000,
};
const coldHeartbeats = T.apiContainers * T.containerRestartsPerDay * 30 * COMPUTERS;

// ------------------------------------------------------------------ measured units
const row = (id: string): Row => {
  const r = bench.rows.find((x) => x.id === id);
  if (!r) throw new Error(`${input}: no row ${id} (run the bench of this version)`);
  return r;
};
/**
 * Units as AWS bills them: the measured ones, at least 0.5 read unit per read request (DynamoDB
 * Local reports 0 for a Query that finds nothing) and the refused conditional writes (1 unit
 * each; DynamoDB Local reports none).
 */
function billed(id: string, scale = 1): { read: number; write: number; byTarget: Record<string, { read: number; write: number }> } {
  const u = row(id).units;
  const readRequests = ['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand'].reduce((n, k) => n + (u.requests[k] ?? 0), 0);
  const read = Math.max(u.read, 0.5 * readRequests) * scale;
  const byTarget = Object.fromEntries(Object.entries(u.byTarget).map(([k, v]) => [k, { read: v.read * scale, write: v.write * scale }]));
  if (read > u.read * scale) byTarget.table = { read: (byTarget.table?.read ?? 0) + (read - u.read * scale), write: byTarget.table?.write ?? 0 };
  return { read, write: (u.write + u.refusedWrites) * scale, byTarget };
}

/** The quiet sweep reads the computer collection: at another fleet size, scaled by the computers (its constant part aside). */
const sweepScale = COMPUTERS / bench.fleet.computers;
function sweepQuiet() {
  const b = billed('sweep.quiet');
  const tableRead = b.byTarget.table?.read ?? 0;
  const scaledTable = tableRead * sweepScale;
  return { ...b, read: b.read - tableRead + scaledTable, byTarget: { ...b.byTarget, table: { read: scaledTable, write: b.byTarget.table?.write ?? 0 } } };
}

interface Line {
  what: string;
  count: number;
  per: { read: number; write: number; byTarget: Record<string, { read: number; write: number }> };
  how: string;
}
const dynamoLines: Line[] = [
  { what: 'heartbeats (steady)', count: T.heartbeats - coldHeartbeats - T.bangs * T.treeSize * (T.reprocessHeartbeats + 1), per: billed('heartbeat.steady'), how: `1,000 computers × 1/min × ${MINUTES.toLocaleString('en')} min, less the lines below` },
  { what: 'heartbeats, first in a new container', count: coldHeartbeats, per: billed('heartbeat.cold'), how: `${T.apiContainers} warm api containers, each replaced ${T.containerRestartsPerDay}×/day (assumed), learn each computer once` },
  { what: 'heartbeats with a reprocess pending', count: T.bangs * T.treeSize * T.reprocessHeartbeats, per: billed('heartbeat.reprocess'), how: `${T.reprocessHeartbeats} per flagged computer per bang (until its report)` },
  { what: 'heartbeats clearing the reprocess hint', count: T.bangs * T.treeSize, per: billed('heartbeat.clearHint'), how: 'one per flagged computer per bang' },
  { what: 'reports kept (green → green), 10 promises', count: T.reportsKept, per: billed('report.kept'), how: '1 instantiation report per partition per day' },
  { what: 'reports turning a partition red', count: T.reportsRed, per: billed('report.red'), how: '1 per partition per day' },
  { what: 'reports turning it green again', count: T.reportsRecover, per: billed('report.recover'), how: '1 per partition per day' },
  { what: 'bangs (API call)', count: T.bangs, per: billed('bang.api'), how: '~100 a day' },
  { what: 'bang fan-out (tree of 10)', count: T.bangs, per: billed('bang.fanout'), how: 'one per bang' },
  { what: 'minute sweep (quiet fleet)', count: T.sweeps, per: sweepQuiet(), how: `1/min; computer read scaled to ${COMPUTERS} computers (measured at ${bench.fleet.computers})` },
  { what: 'sweep visits of partitions whose key came due (re-keyed)', count: T.sweepVisits, per: billed('sweep.rekey'), how: 'each partition about once a day' },
  { what: 'sweep: partitions expiring (green → red by age)', count: T.sweepExpiries, per: billed('sweep.expire'), how: '1 % of partitions a day' },
  { what: 'dashboard: one tab, fleet page every 30 s', count: T.dashboardRefreshes, per: billed('dashboard.fleet'), how: 'session read + the pages of the fleet page (measured as the dashboard of this version renders it)' },
  { what: 'dashboard: GET /v1/summary with each refresh', count: T.dashboardRefreshes, per: billed('summary.get'), how: 'one GetItem' },
  { what: 'unauthenticated: forged computer tokens', count: T.forged, per: billed('auth.forgedUnknown'), how: '1 M/month, a new unknown computer id each (worst case; a known id costs 0)' },
];

const money = (x: number) => (x < 0.005 ? '0.00' : x.toFixed(2));
const num = (x: number) => (Number.isInteger(x) ? x.toLocaleString('en') : x.toLocaleString('en', { maximumFractionDigits: 2 }));
const mega = (x: number) => (x >= 1e6 ? `${(x / 1e6).toLocaleString('en', { maximumFractionDigits: 2 })} M` : x.toLocaleString('en', { maximumFractionDigits: 0 }));

// ------------------------------------------------------------------ DynamoDB
let dynamoTotal = 0;
const targets: Record<string, { read: number; write: number }> = {};
const dynamoRows = dynamoLines.map((l) => {
  const r = l.count * l.per.read;
  const w = l.count * l.per.write;
  const cost = r * P.rru + w * P.wru;
  dynamoTotal += cost;
  for (const [k, v] of Object.entries(l.per.byTarget)) {
    const t = targets[k] ?? { read: 0, write: 0 };
    t.read += l.count * v.read;
    t.write += l.count * v.write;
    targets[k] = t;
  }
  return `| ${l.what} | ${mega(l.count)} | ${num(l.per.read)} R + ${num(l.per.write)} W | ${mega(r)} R + ${mega(w)} W | ${money(cost)} | ${l.how} |`;
});

// storage: items (measured sizes) + index entries (keys + 100 bytes each), 7 days of history
const sizes = bench.itemBytes;
const historyItems = (T.reportsKept + T.reportsRed + T.reportsRecover) * (7 / 30);
const redShare = 0.1;
const indexEntries = PARTITIONS * (3 + redShare + 0.9) + T.bangs * 12 * 2;
const storageBytes =
  COMPUTERS * (sizes.computer + 100) +
  PARTITIONS * ((1 - redShare) * sizes.partitionGreen + redShare * sizes.partitionRed + 100) +
  historyItems * (sizes.historyReport10 + 100) +
  indexEntries * 200 +
  T.bangs * 12 * 600;
const storageGb = storageBytes / 1e9;
const storageCost = storageGb * (P.storageGbMonth + P.pitrGbMonth);
dynamoTotal += storageCost;

// ------------------------------------------------------------------ the stack (memory sizes, alarms)
// the stack as bin/app.ts builds it (no esbuild bundling: only the template is read)
const { stack } = buildVigilApp({ context: { 'aws:cdk:bundling-stacks': [] } });
const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: { Metrics?: unknown[] } }> };
const alarms = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
/** A function's memory in the stack (by its VIGIL_ROUTES / handler environment). */
function memoryOf(match: (env: Record<string, unknown>, description: string) => boolean): number {
  const fn = Object.values(template.Resources).find((r) => {
    const p = r.Properties as { Environment?: { Variables?: Record<string, unknown> }; Description?: string };
    return r.Type === 'AWS::Lambda::Function' && match(p.Environment?.Variables ?? {}, p.Description ?? '');
  });
  const mb = (fn?.Properties as { MemorySize?: number } | undefined)?.MemorySize;
  if (!mb) throw new Error('cost model: a function of the stack not found');
  return mb;
}

// ------------------------------------------------------------------ Lambda
/**
 * A call's billed duration: the master's own work measured by the bench (\`appMs\`: wall time
 * less the time waiting for DynamoDB Local), scaled to the function's share of a vCPU (Lambda
 * gives 1 vCPU at 1,769 MB; the bench machine's core counted as one), plus an ASSUMED 5 ms per
 * DynamoDB request in-region (p50, keep-alive connection) and 1 ms of Lambda overhead.
 */
const DYNAMO_MS = 5;
function durationMs(id: string, memoryMb: number, requests?: number): number {
  const r = row(id);
  const n = requests ?? Object.values(r.units.requests).reduce((a, b) => a + b, 0);
  return Math.max(1, Math.ceil((r.appMs ?? 10) * (1769 / memoryMb) + n * DYNAMO_MS + 1));
}
const apiMb = memoryOf((env) => env.VIGIL_ROUTES === 'computer');
const adminMb = memoryOf((_env, d) => /admin API and dashboard/.test(d));
const sweepMb = memoryOf((_env, d) => /sweep/i.test(d));
const fanoutMb = memoryOf((_env, d) => /fan/i.test(d));
const reportMs = Math.round((durationMs('report.kept', apiMb) + durationMs('report.red', apiMb) + durationMs('report.recover', apiMb)) / 3);
const apiInvocations = T.heartbeats + T.reportsKept + T.reportsRed + T.reportsRecover + T.bangs + T.forged;
const lambda = [
  { fn: `api (${apiMb} MB)`, n: T.heartbeats, ms: durationMs('heartbeat.steady', apiMb), gb: apiMb / 1024, what: 'heartbeats: one UpdateItem' },
  { fn: `api (${apiMb} MB)`, n: T.reportsKept + T.reportsRed + T.reportsRecover, ms: reportMs, gb: apiMb / 1024, what: 'reports: GetItem, PutItem, UpdateItem' },
  { fn: `api (${apiMb} MB)`, n: T.bangs, ms: durationMs('bang.api', apiMb), gb: apiMb / 1024, what: 'bangs (quota, bang, mark, queue send ≈ 1 request more)' },
  { fn: `api (${apiMb} MB)`, n: T.forged, ms: durationMs('auth.forgedUnknown', apiMb), gb: apiMb / 1024, what: 'forged tokens (one look-up)' },
  { fn: `admin (${adminMb} MB)`, n: T.dashboardRefreshes, ms: durationMs('dashboard.fleet', adminMb), gb: adminMb / 1024, what: 'dashboard fleet page (its API reads in process)' },
  { fn: `sweep (${sweepMb} MB)`, n: T.sweeps, ms: durationMs('sweep.quiet', sweepMb), gb: sweepMb / 1024, what: 'reads 1,000 computers, the due partitions, writes the summary' },
  { fn: `fanout (${fanoutMb} MB)`, n: T.bangs, ms: durationMs('bang.fanout', fanoutMb), gb: fanoutMb / 1024, what: '10 flags + 10 hints, in parallel' },
];
let lambdaTotal = 0;
const lambdaRows = lambda.map((l) => {
  const gbs = (l.n * l.ms * l.gb) / 1000;
  const cost = l.n * P.lambdaRequest + gbs * P.lambdaGbSecondArm;
  lambdaTotal += cost;
  return `| ${l.fn}: ${l.what} | ${mega(l.n)} | ${l.ms} ms | ${num(Math.round(gbs))} GB-s | ${money(cost)} |`;
});

// ------------------------------------------------------------------ the rest (alarms and metrics from the stack)
const alarmMetrics = alarms.reduce((n, a) => n + Math.max(1, (a.Properties.Metrics ?? []).filter((m) => (m as { MetricStat?: unknown }).MetricStat).length), 0);
/**
 * Custom metrics (functions/handlers/), billed by the hour in which they are published: the
 * sweep's 2 every minute (SweepDelayMs, ColourChanges: 720 h each), the fan-out's
 * PartitionsFlagged (hours with a bang ≈ 500 h); ApiServerErrors and MalformedBangs only on
 * errors (0 h). No cold-start metric (the logger's cold_start key and Lambda's Init Duration
 * show them for free). Assumed hours shown.
 */
const metricHours = [720, 720, 500];
const customMetrics = metricHours.reduce((a, b) => a + b, 0) / HOURS;
const heartbeatAnswerBytes = row('heartbeat.steady').bytes ?? 1500;
const dashboardBytes = row('dashboard.fleet').bytes ?? 100_000;
const transferGb = (T.heartbeats * heartbeatAnswerBytes + (T.reportsKept * 3 + T.bangs) * 120 + T.dashboardRefreshes * dashboardBytes) / 1e9;
const sqsRequests = T.bangs * 3 + 650_000;
const secretCalls = 8640;
const rest = [
  { item: 'HTTPS front: Lambda function URLs', price: 'no charge', cost: 0 },
  { item: `SQS: ${num(T.bangs)} bang messages (send, receive, delete) + the event source mapping's empty long polls (~650 k)`, price: '$0.40 per million requests', cost: sqsRequests * P.sqsRequest },
  { item: `EventBridge Scheduler: ${num(T.sweeps)} invocations`, price: '$1.00 per million', cost: T.sweeps * P.schedulerInvocation },
  { item: `Secrets Manager: 1 secret; GetSecretValue by the admin function only (every 5 min while warm ≈ ${num(secretCalls)}); computer calls never read it`, price: '$0.40 / secret + $0.05 per 10,000 calls', cost: P.secret + (secretCalls / 10_000) * P.secretCalls10k },
  { item: `CloudWatch custom metrics (EMF, namespace Vigil): ${metricHours.length} metrics published part of the month (hours assumed: ${metricHours.join(', ')}) = ${customMetrics.toFixed(1)} metric-months`, price: '$0.30 per metric-month, prorated by the hour', cost: customMetrics * P.metric },
  { item: `CloudWatch alarms: ${alarms.length} alarms on ${alarmMetrics} metrics (counted in the synthesized stack)`, price: '$0.10 per alarm metric', cost: alarmMetrics * P.alarmMetric },
  { item: 'CloudWatch Logs: no line per healthy api request; sweep ≈ 1 line a minute, fan-out and admin errors ≈ 50 MB', price: '$0.50 per GB ingested', cost: 0.05 * P.logsIngestGb },
  {
    item: `Data transfer out: ${(heartbeatAnswerBytes / 1024).toFixed(1)} KiB per heartbeat answer (measured), report answers, ${(dashboardBytes / 1024).toFixed(0)} KiB per dashboard refresh ≈ ${transferGb.toFixed(0)} GB`,
    price: `first ${P.transferFreeGb} GB/month free for every account, then $0.09/GB`,
    cost: Math.max(0, transferGb - P.transferFreeGb) * P.transferGb,
  },
];
const restTotal = rest.reduce((n, r) => n + r.cost, 0);
const total = dynamoTotal + lambdaTotal + restTotal;

// ------------------------------------------------------------------ provisioned capacity (flat fleet)
const provisionedRows: string[] = [];
let provisioned = 0;
for (const [target, u] of Object.entries(targets).sort()) {
  const rAvg = u.read / SECONDS;
  const wAvg = u.write / SECONDS;
  const rcu = Math.max(1, Math.ceil(rAvg * 1.5));
  const wcu = Math.max(1, Math.ceil(wAvg * 1.5));
  const cost = (rcu * P.rcuHour + wcu * P.wcuHour) * HOURS;
  provisioned += cost;
  provisionedRows.push(`| ${target} | ${rAvg.toFixed(2)} | ${wAvg.toFixed(2)} | ${rcu} | ${wcu} | ${money(cost)} |`);
}
provisioned += storageCost;

// ------------------------------------------------------------------ the document
const unitsRows = bench.rows.map(
  (r) =>
    `| \`${r.id}\` | ${r.call} | ${num(r.units.read)} | ${num(r.units.write + r.units.refusedWrites)} | ${Object.entries(r.units.byTarget)
      .filter(([, v]) => v.read || v.write)
      .map(([k, v]) => `${k} ${v.read ? `${num(v.read)}R` : ''}${v.read && v.write ? '+' : ''}${v.write ? `${num(v.write)}W` : ''}`)
      .join(', ')}${r.note ? ` (${r.note})` : ''} |`,
);

const md = `# Monthly cost: 1,000 computers × 10 partitions, 60 s heartbeats

Generated by \`bench/cost-model.ts\` from \`${input}\` (DynamoDB capacity units **measured** by
\`bench/capacity.bench.ts\` on DynamoDB Local with \`ReturnConsumedCapacity=INDEXES\`, fleet
${bench.fleet.computers.toLocaleString('en')} × ${bench.fleet.partitionsPerComputer}, ${bench.measuredAt.slice(0, 10)}), traffic assumptions stated
below, and **us-east-1 list prices, on-demand, no free tier** (except the data-transfer allowance
every account has). A 30-day month. To regenerate:

\`\`\`
npx tsx bench/capacity.bench.ts --json ${input}
npx tsx bench/cost-model.ts ${input} --out docs/cost.md
\`\`\`

## Total: **$${total.toFixed(2)} per month** (≈ $${(total / COMPUTERS).toFixed(3)} per computer)

| | $ / month |
|---|---|
| DynamoDB (on-demand) | ${money(dynamoTotal)} |
| Lambda (ARM64) | ${money(lambdaTotal)} |
| the rest (SQS, Scheduler, Secrets Manager, CloudWatch, data transfer) | ${money(restTotal)} |
| **total** | **${money(total)}** |

Before issue 12 the same fleet was modelled at **≈ $144 per month** (86 % DynamoDB, heartbeat
writes alone 61 %), without the dashboard and unauthenticated traffic.

## DynamoDB

Prices: $0.625 per million write request units (W), $0.125 per million read request units (R);
storage $0.25 and point-in-time recovery $0.20 per GB-month. Units per call are the measured ones
(table below), billed as AWS does: at least 0.5 R per read request (DynamoDB Local reports 0 for a
Query that finds nothing) and 1 W per refused conditional write (DynamoDB Local reports none).

| call | per month | units per call | units per month | $ / month | traffic |
|---|---|---|---|---|---|
${dynamoRows.join('\n')}
| storage + PITR: ${(storageGb * 1000).toFixed(0)} MB | | | | ${money(storageCost)} | items of the measured sizes (computer ${sizes.computer} B, partition ${sizes.partitionGreen} B green / ${sizes.partitionRed} B red, report of 10 promises ${sizes.historyReport10} B) + 100 B each; 7 days of history (${mega(historyItems)} reports); index entries ≈ 200 B |
| **DynamoDB** | | | | **${money(dynamoTotal)}** | |

### Provisioned capacity instead (a flat fleet)

A fleet whose traffic is flat (heartbeats spread evenly over the minute, no fleet-wide restart)
can use provisioned capacity: each target (the table and each index, which provisioned mode
sizes separately) gets 1.5 × its average units per second (at least 1). Prices $0.00065 per
WCU-hour, $0.00013 per RCU-hour; storage as above. Bursts (the sweep's read each minute, a
bang's fan-out) stay within DynamoDB's burst capacity (300 s of unused capacity).

| target | R/s (average) | W/s (average) | RCU | WCU | $ / month |
|---|---|---|---|---|---|
${provisionedRows.join('\n')}
| **provisioned total (with storage)** | | | | | **${money(provisioned)}** (on-demand: ${money(dynamoTotal)}) |

## Lambda (ARM64)

Prices: $0.20 per million requests, $0.0000133334 per GB-second. Billed duration per call: the
master's own work **measured** by the bench (its wall time less the time waiting for DynamoDB
Local; the typed client's answer validation included) scaled to the function's vCPU share
(1,769 MB = 1 vCPU), plus an **assumed** ${DYNAMO_MS} ms per DynamoDB request in-region and 1 ms of
Lambda overhead.

| function | invocations | duration | compute | $ / month |
|---|---|---|---|---|
${lambdaRows.join('\n')}
| **Lambda** | ${mega(apiInvocations + T.dashboardRefreshes + T.sweeps + T.bangs)} | | | **${money(lambdaTotal)}** |

## The rest

| item | price | $ / month |
|---|---|---|
${rest.map((r) => `| ${r.item} | ${r.price} | ${money(r.cost)} |`).join('\n')}
| **rest** | | **${money(restTotal)}** |

## Units per call, as measured (fleet ${bench.fleet.computers.toLocaleString('en')} × ${bench.fleet.partitionsPerComputer})

R = read units, W = write units (refused conditional writes counted 1 each), per target (the
table, each index).

| id | call | R | W | where |
|---|---|---|---|---|
${unitsRows.join('\n')}

### Before issue 12 (main at 38cc3e8, measured at 1,000 × 10)

| call | R | W |
|---|---|---|
| heartbeat | 4 | 3 (table 1, sweep index 1, byKind 1) |
| report, 10 promises | 2 | 23 (21 on green → red) |
| bang (API call) | 5 | 15 |
| fan-out of a tree of 10 | 3 | 120 |
| forged-token heartbeat | 4 | 0 |
| dashboard \`/\` | 1,608 (786 KiB) | 0 |
| dashboard \`/trees\` | 1,608 (8 MiB of HTML) | 0 |
| \`GET /v1/partitions\` | 1,556 (5.5 MiB, every partition) | 0 |
| \`GET /v1/computers\` | 52 (300 KiB) | 0 |

## Traffic assumed

| | per month | how |
|---|---|---|
| heartbeats | ${mega(T.heartbeats)} | 1,000 computers × 1/min; ${mega(coldHeartbeats)} of them the first of a computer in a new api container |
| reports | ${mega(T.reportsKept + T.reportsRed + T.reportsRecover)} | per partition per day: 1 instantiation report, 2 state changes (red, green again) |
| bangs | ${num(T.bangs)} | each fanned out to a tree of ${T.treeSize} on ${T.treeSize} computers |
| sweeps | ${num(T.sweeps)} | one a minute; each partition visited about once a day (its lazy key), 1 % expiring a day |
| dashboard | ${mega(T.dashboardRefreshes)} refreshes | one tab open all month on the fleet page, 30 s refresh |
| unauthenticated | ${mega(T.forged)} | forged computer tokens (each with a new computer id: the worst case) |

Levers: the heartbeat (one write unit, no read) is still the largest line; it is the floor of a
design that records every contact (SPEC: at least one heartbeat a minute). Provisioned capacity
saves the difference above for a flat fleet. The api at 256 MB instead of 512 MB would halve
its compute.
`;

if (values.out) {
  writeFileSync(values.out, md);
  process.stderr.write(`cost model: $${total.toFixed(2)}/month written to ${values.out}\n`);
} else process.stdout.write(md);
