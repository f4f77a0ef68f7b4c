// Notifications of the local master end to end: the built CLI (`vigil master
// --demo-webhook URL`), a real receiver on 127.0.0.1, events from real bangs through the API
// (bang.accepted when the fan-out completes, bang.rejected by the daily quota). The receiver
// goes down, the master is restarted meanwhile, the receiver comes back: every event arrives,
// in order per partition, signed, and none twice to a receiver that answered 2xx.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifySignature } from '../../functions/notify/deliver.ts';
import { createVigilClient, VigilApiError, type VigilClient } from '../../protocol/client.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/vigil.mjs');
const dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-notify-'));
const children: ChildProcess[] = [];
let rx: Receiver;

beforeAll(async () => {
  if (!existsSync(cli)) execFileSync('node', ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  rx = await startReceiver();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await rx?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Master {
  child: ChildProcess;
  url: string;
  api: VigilClient;
  output: () => string;
}

function startMaster(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Master> {
  const child = spawn('node', [cli, 'master', '--port', '0', '--data-dir', dir, ...args], {
    cwd: root,
    env: { ...process.env, VIGIL_ADMIN_TOKEN: 'e2e-notify-admin-token', VIGIL_DEMO_WEBHOOK: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (d) => {
    text += d;
  });
  child.stderr?.on('data', (d) => {
    text += d;
  });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`vigil master did not start: ${text}`)), 60_000);
    const check = () => {
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      if (!url) return;
      clearTimeout(timer);
      res({ child, url, api: createVigilClient({ baseUrl: url, token: 'e2e-notify-admin-token', timeoutMs: 30_000 }), output: () => text });
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => rej(new Error(`vigil master exited ${code}: ${text}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((res) => {
    child.once('exit', (code) => res(code));
    child.kill('SIGTERM');
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let bangs = 0;
async function bang(api: VigilClient, partitionId: string): Promise<'accepted' | 'rejected'> {
  bangs++;
  try {
    await api.bang(partitionId, { bangId: `e2e-bang-${bangs}`, message: `bang ${bangs}`, source: 'manual' });
    return 'accepted';
  } catch (err) {
    if (err instanceof VigilApiError && err.status === 429) return 'rejected';
    throw err;
  }
}

it('events from bangs reach a webhook; receiver down and master restarted meanwhile: all arrive, in order, once', async () => {
  // which answers were 2xx, per event id
  const okAnswers = new Map<string, number>();
  let down = false;
  rx.behave((req) => {
    if (down) return { kind: 'reset' };
    const id = String(req.headers['x-vigil-event-id']);
    okAnswers.set(id, (okAnswers.get(id) ?? 0) + 1);
    return { kind: 'status', status: 204 };
  });

  const m1 = await startMaster([], { VIGIL_DEMO_WEBHOOK: `${rx.url}/vigil` });
  const secret = await until('the demo channel secret', () => /signing secret \(shown once\): (\S+)/.exec(m1.output())?.[1]);
  const api = m1.api;
  await api.putSoftwareRelease('sr-n', { url: 'https://example.com/sr-n', bangQuotaPerDay: 3 });
  await api.putComputer('comp-n');
  await api.putPartition('part-a', { computerId: 'comp-n', instanceTreeId: 'tree-n', softwareReleaseId: 'sr-n' });
  await api.putPartition('part-b', { computerId: 'comp-n', instanceTreeId: 'tree-n', softwareReleaseId: 'sr-n' });

  // phase 1: receiver up; latency from the API's answer to the receiver
  expect(await bang(api, 'part-a')).toBe('accepted');
  let t0 = Date.now();
  const first = await rx.waitForRequests(1, 30_000);
  const acceptedLatency = first[0]!.receivedAt - t0;
  expect(first[0]!.headers['x-vigil-event-type']).toBe('bang.accepted');
  expect(await bang(api, 'part-b')).toBe('accepted');
  await rx.waitForRequests(2, 30_000);

  // phase 2: the receiver is down; more events, one of them refused by the quota
  down = true;
  expect(await bang(api, 'part-a')).toBe('accepted');
  expect(await bang(api, 'part-a')).toBe('accepted');
  expect(await bang(api, 'part-a')).toBe('rejected');
  expect(await bang(api, 'part-b')).toBe('accepted');
  await until('failed attempts', () => (rx.requests.length >= 4 ? true : undefined), 30_000);
  const ch = await api.getChannel('demo');
  expect(ch.lastDelivery).toMatchObject({ ok: false });
  expect(ch.backlog).toBeGreaterThan(0);

  // the master restarts while the receiver is still down
  expect(await stop(m1.child)).toBe(0);
  const m2 = await startMaster(['--demo-webhook', `${rx.url}/vigil`]);
  await new Promise((r) => setTimeout(r, 3000));
  down = false;

  // every recorded event arrives
  const recorded = (await m2.api.listEvents({ limit: 100 })).events.map((e) => e.event).reverse();
  expect(recorded.map((e) => e.type).sort()).toEqual(['bang.accepted', 'bang.accepted', 'bang.accepted', 'bang.accepted', 'bang.accepted', 'bang.rejected']);
  await until('every event delivered', async () => ((await m2.api.getChannel('demo')).backlog === 0 ? true : undefined), 90_000);
  const ok = rx.requests.filter((r) => okAnswers.has(String(r.headers['x-vigil-event-id'])));
  for (const e of recorded) expect(okAnswers.get(e.eventId), e.eventId).toBe(1);
  // in the order the master recorded them, per partition
  for (const p of ['part-a', 'part-b']) {
    const want = recorded.filter((e) => 'partitionId' in e && e.partitionId === p).map((e) => e.eventId);
    const got = [...new Set(rx.requests.map((r) => String(r.headers['x-vigil-event-id'])).filter((id) => want.includes(id)))];
    expect(got, p).toEqual(want);
  }
  // signed over the raw bytes with the secret shown once
  for (const r of ok) expect(verifySignature(secret, r.rawBody, String(r.headers['x-vigil-signature']))).toBe(true);

  // a rejected bang: from the 429 to the receiver
  const before = rx.requests.length;
  expect(await bang(m2.api, 'part-a')).toBe('rejected');
  t0 = Date.now();
  const after = await rx.waitForRequests(before + 1, 30_000);
  const rejectedLatency = after[before]!.receivedAt - t0;
  console.log(`notify e2e: latency from the API's answer to the receiver: bang.accepted ${acceptedLatency} ms (through the fan-out queue), bang.rejected ${rejectedLatency} ms`);
  expect(rejectedLatency).toBeLessThan(5000);
  expect(acceptedLatency).toBeLessThan(10_000);
  expect(await stop(m2.child)).toBe(0);
});
