// Events from colour changes, end to end: the built CLI (`vigil master`) spawned with its
// clock and sweep under the test's control (VIGIL_TEST_CLOCK_FILE, VIGIL_SWEEP_INTERVAL_MS:
// functions/local/test-clock.ts), agents' calls through the typed client, and a real webhook
// receiver on 127.0.0.1. A failing partition's red event (signed, within 5 s of the report
// that turned it red, latency printed), flapping, a computer going silent with 10
// partitions (one event), a silence over a tree, a bang on a tree of 1,000 partitions (one
// bang.accepted).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mapLimit } from '../../functions/lib/concurrency.ts';
import { verifySignature } from '../../functions/notify/deliver.ts';
import { createVigilClient, type VigilClient } from '../../protocol/client.ts';
import { type EventType, type VigilEvent, VigilEvent as VigilEventSchema } from '../../protocol/events.ts';
import type { ReportRequest } from '../../protocol/index.ts';
import { type Receiver, type ReceivedRequest, startReceiver } from '../helpers/receiver.ts';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/vigil.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-changes-'));
const clockFile = join(dir, 'clock-offset-ms');
const ADMIN = 'e2e-changes-admin-token';
const SECRET = 'vwh1_e2e-changes-secret-0123456789';
const MIN = 60_000;
let child: ChildProcess;
let url = '';
let api: VigilClient;
let rx: Receiver;
let offset = 0;
let output = '';

/** Moves the master's clock (it re-reads the file when it changes). */
function advanceClock(ms: number): void {
  offset += ms;
  writeFileSync(clockFile, String(offset));
}
const masterNow = () => new Date(Date.now() + offset);

beforeAll(async () => {
  if (!existsSync(cli)) execFileSync('node', ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  rx = await startReceiver({ kind: 'status', status: 204 });
  writeFileSync(clockFile, '0');
  child = spawn('node', [cli, 'master', '--port', '0', '--data-dir', join(dir, 'data')], {
    cwd: root,
    env: { ...process.env, VIGIL_ADMIN_TOKEN: ADMIN, VIGIL_DEMO_WEBHOOK: '', VIGIL_TEST_CLOCK_FILE: clockFile, VIGIL_SWEEP_INTERVAL_MS: '500' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  url = await until('the master', () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 60_000);
  api = createVigilClient({ baseUrl: url, token: ADMIN, timeoutMs: 30_000 });
  await api.putChannel('hook', { kind: 'webhook', url: `${rx.url}/hook`, secret: SECRET });
  await api.putSoftwareRelease('sr', { url: 'https://example.com/sr.cfg' });
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    await new Promise((r) => {
      child.once('exit', r);
      child.kill('SIGTERM');
    });
  }
  await rx?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Got {
  event: VigilEvent;
  req: ReceivedRequest;
}
/** What the receiver got about one computer (and its partitions): signature checked. */
function got(computerId: string, type?: EventType): Got[] {
  return rx.requests
    .map((req) => {
      expect(verifySignature(SECRET, req.rawBody, String(req.headers['x-vigil-signature']))).toBe(true);
      return { event: VigilEventSchema.parse(JSON.parse(req.rawBody.toString('utf8'))), req };
    })
    .filter((g) => g.event.computerId === computerId && (!type || g.event.type === type));
}
const label = (e: VigilEvent) => (e.type === 'partition.colour' || e.type === 'computer.colour' ? `${e.type} ${e.data.from}→${e.data.to}` : e.type);

let lastStart = 0;
/** A report as an agent posts it (startedAt on the master's clock, always later than the last). */
function report(reportId: string, failed: boolean, extra: Partial<ReportRequest> = {}): ReportRequest {
  lastStart = Math.max(lastStart + 1, masterNow().getTime() - 100);
  const at = new Date(lastStart).toISOString();
  return {
    reportId,
    kind: 'instantiation',
    startedAt: at,
    durationMs: 800,
    ok: !failed,
    promises: [{ name: 'check-url.json', title: 'check-url', kind: 'test', failed, message: failed ? 'HTTP 503 from https://shop.example/health' : 'kept', date: at, executionTimeMs: 3 }],
    ...extra,
  };
}

async function computer(id: string, partitions: string[], tree: string, frequency?: number): Promise<VigilClient> {
  const r = await api.putComputer(id, frequency ? { instantiationFrequencySeconds: frequency } : {});
  if (!r.created) throw new Error(`${id} existed`);
  await mapLimit(partitions, 8, (p) => api.putPartition(p, { computerId: id, instanceTreeId: tree, softwareReleaseId: 'sr' }));
  const agent = api.withToken(r.token.token);
  await agent.heartbeat(id, { agentVersion: 'e2e' });
  return agent;
}

it('a failing partition: its red event reaches the webhook within 5 s of the report, signed (latency measured)', async () => {
  const parts = Array.from({ length: 10 }, (_, i) => `lat-${i}`);
  const agent = await computer('lat', parts, 'lat-tree');
  for (const p of parts) await agent.report(p, report(`${p}-ok`, false));
  const latencies: number[] = [];
  for (const p of parts) {
    const t0 = Date.now();
    await agent.report(p, report(`${p}-bad`, true));
    const g = await until(`the red event of ${p}`, () => got('lat', 'partition.colour').find((x) => x.event.type === 'partition.colour' && x.event.partitionId === p));
    latencies.push(g.req.receivedAt - t0);
    expect(g.event).toMatchObject({ partitionId: p, instanceTreeId: 'lat-tree', data: { from: 'green', to: 'red' } });
    expect(g.req.headers['x-vigil-event-id']).toBe(g.event.eventId);
  }
  latencies.sort((a, b) => a - b);
  console.log(`notify e2e: report that turns a partition red → webhook: median ${latencies[5]} ms, max ${latencies[9]} ms (10 partitions)`);
  expect(latencies[9]).toBeLessThanOrEqual(5000);
  // nothing else about them: their first OK reports were recorded, not sent
  expect(got('lat').map((g) => label(g.event))).toEqual(parts.map(() => 'partition.colour green→red'));
});

it('a partition alternating kept/failed at every report: colour events, flapping.started once, then nothing until flapping.stopped', async () => {
  const agent = await computer('flap', ['flap-p'], 'flap-tree', 86_400);
  for (let i = 0; i < 20; i++) await agent.report('flap-p', report(`a${i}`, i % 2 === 0));
  await until('flapping.started', () => got('flap', 'flapping.started')[0]);
  expect((await api.getPartition('flap-p')).flapping).toBe(true);
  // stable again: kept reports until it stops (the old changes leave the window)
  for (let i = 0; i < 20 && (await api.getPartition('flap-p')).flapping; i++) await agent.report('flap-p', report(`s${i}`, false));
  expect((await api.getPartition('flap-p')).flapping).toBe(false);
  await until('flapping.stopped', () => got('flap', 'flapping.stopped')[0]);
  await sleep(500);
  const seq = got('flap').map((g) => g.event.type);
  const started = seq.indexOf('flapping.started');
  expect(started).toBeGreaterThan(2);
  expect(seq.slice(0, started).every((t) => t === 'partition.colour')).toBe(true);
  expect(seq.slice(started)).toEqual(['flapping.started', 'flapping.stopped']);
  const stopped = got('flap', 'flapping.stopped')[0]!.event;
  expect(stopped.type === 'flapping.stopped' && stopped.data).toMatchObject({ colour: 'green', threshold: 25 });
  // the folded changes are on record
  const folded = (await api.listEvents({ partitionId: 'flap-p', limit: 100 })).events.filter((r) => r.event.suppressed?.by === 'flapping');
  expect(folded.length).toBeGreaterThan(5);
});

it('a silence over a tree: the red event is recorded, marked, not sent; after the silence ends, the next one is sent', async () => {
  const agent = await computer('sil', ['sil-1', 'sil-2'], 'sil-tree');
  for (const p of ['sil-1', 'sil-2']) await agent.report(p, report(`${p}-ok`, false));
  const now = masterNow();
  await api.putSilence('maint', { match: { instanceTreeId: 'sil-tree' }, startsAt: now.toISOString(), endsAt: new Date(now.getTime() + 3_600_000).toISOString(), reason: 'maintenance' });
  await agent.report('sil-1', report('sil-1-bad', true));
  const rec = await until('the silenced event', async () => (await api.listEvents({ partitionId: 'sil-1', type: 'partition.colour' })).events.find((r) => r.event.silenced));
  expect(rec.event.silenced).toEqual({ silenceId: 'maint', reason: 'maintenance' });
  expect(rec.sendable).toBe(false);
  await sleep(1000);
  expect(got('sil')).toEqual([]);
  await api.endSilence('maint');
  await agent.report('sil-2', report('sil-2-bad', true));
  const sent = await until('the event after the silence', () => got('sil')[0]);
  expect(sent.event).toMatchObject({ partitionId: 'sil-2', data: { to: 'red' } });
  expect(sent.event.silenced).toBeUndefined();
});

it('a bang on a tree of 1,000 partitions: one bang.accepted listing them; their red while it is handled recorded, not sent', async () => {
  const parts = Array.from({ length: 1000 }, (_, i) => `big-${String(i).padStart(4, '0')}`);
  const agent = await computer('big', parts, 'big-tree');
  // a few of them report (green), so that the bang turns them red
  const reporting = parts.slice(0, 10);
  for (const p of reporting) await agent.report(p, report(`${p}-ok`, false));
  await sleep(1500);
  const before = got('big').length;
  const t0 = Date.now();
  const r = await agent.bang('big-0000', { bangId: 'big-bang', message: 'anomaly in big-0000', source: 'promise' });
  expect(r.fannedOutTo).toBe(1000);
  const accepted = await until('bang.accepted', () => got('big', 'bang.accepted')[0], 60_000);
  console.log(`notify e2e: bang on a tree of 1,000 partitions → bang.accepted at the webhook in ${accepted.req.receivedAt - t0} ms`);
  expect(accepted.event.type === 'bang.accepted' && accepted.event.data).toMatchObject({ bangId: 'big-bang', fannedOutTo: 1000, partitionCount: 1000, partitions: parts.slice(0, 100) });
  // the sweep records the reporting partitions red (a bang after their report): folded into the bang's event
  await until(
    'the folded red events',
    async () => {
      const evs = (await api.listEvents({ computerId: 'big', type: 'partition.colour', limit: 1000 })).events;
      const folded = evs.filter((x) => x.event.suppressed?.by === 'bang' && x.event.suppressed.id === 'big-bang');
      return folded.length === reporting.length ? folded : undefined;
    },
    60_000,
  );
  // handled: the agent reports again (green), recorded, not sent
  for (const p of reporting) await agent.report(p, report(`${p}-again`, false, { reprocessedUpTo: masterNow().toISOString() }));
  await sleep(1500);
  expect(got('big').slice(before).map((g) => g.event.type)).toEqual(['bang.accepted']);
}, 300_000);

it('a computer going silent with 10 partitions: ONE computer.colour event listing them; their red (by age) folded into it', async () => {
  const parts = Array.from({ length: 10 }, (_, i) => `quiet-${i}`);
  // frequency 10 min: its partitions turn red by age 10 min after their last report
  const agent = await computer('quiet', parts, 'quiet-tree', 600);
  for (const p of parts) await agent.report(p, report(`${p}-ok`, false));
  await sleep(1000);
  expect(got('quiet')).toEqual([]);
  // 6 minutes without contact: orange
  advanceClock(6 * MIN);
  const orange = await until('computer.colour', () => got('quiet', 'computer.colour')[0]);
  expect(orange.event.type === 'computer.colour' && orange.event.data).toMatchObject({ from: 'green', to: 'orange', partitionCount: 10, instanceTreeIds: ['quiet-tree'] });
  // 11 minutes: the partitions are red by age, recorded by the sweep, folded
  advanceClock(5 * MIN);
  const folded = await until('the 10 folded partition events', async () => {
    const evs = (await api.listEvents({ computerId: 'quiet', type: 'partition.colour', limit: 100 })).events.filter((x) => x.event.suppressed?.by === 'computer');
    return evs.length === 10 ? evs : undefined;
  });
  expect(folded.every((x) => !x.sendable && x.event.type === 'partition.colour' && x.event.data.to === 'red')).toBe(true);
  await sleep(1000);
  expect(got('quiet').map((g) => label(g.event))).toEqual(['computer.colour green→orange']);
});
