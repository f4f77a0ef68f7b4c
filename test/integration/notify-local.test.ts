// Notifications on the local master (startLocalMaster: dynalite, fauxqs, the in-process
// delivery loop) driven by `vigil admin channel|silence|event` and real bangs: the demo
// channel, a silence over a tree (events recorded, not delivered; after it ends, new events
// are), the admin commands' output and exit codes, and the publish → receiver latency.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../../functions/local/admin-cli.ts';
import { type LocalMaster, startLocalMaster } from '../../functions/local/master.ts';
import { verifySignature } from '../../functions/notify/deliver.ts';
import { createVigilClient, VigilApiError, type VigilClient } from '../../protocol/client.ts';
import { runAdmin } from '../helpers/master-fleet.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-notify-local-'));
let master: LocalMaster;
let api: VigilClient;
let rx: Receiver;
let demoSecret = '';
let bangs = 0;
const logs: string[] = [];

const admin = (...args: string[]) => runAdmin(master.url, master.adminToken, ...args);

async function bang(partitionId: string): Promise<void> {
  bangs++;
  try {
    await api.bang(partitionId, { bangId: `nl-${bangs}`, message: `bang ${bangs}`, source: 'manual' });
  } catch (err) {
    if (!(err instanceof VigilApiError && err.status === 429)) throw err;
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  rx = await startReceiver({ kind: 'status', status: 200 });
  master = await startLocalMaster({ port: 0, dataDir: dir, adminToken: 'notify-local-admin', demoWebhook: `${rx.url}/demo`, log: (l) => logs.push(l) });
  api = createVigilClient({ baseUrl: master.url, token: master.adminToken });
  demoSecret = /signing secret \(shown once\): (\S+)/.exec(logs.join('\n'))?.[1] ?? '';
  await api.putSoftwareRelease('nl-sr', { url: 'https://example.com/nl', bangQuotaPerDay: 100 });
  await api.putComputer('nl-c');
  for (const [p, t] of [
    ['nl-a1', 'tree-a'],
    ['nl-a2', 'tree-a'],
    ['nl-b1', 'tree-b'],
  ]) {
    await api.putPartition(p as string, { computerId: 'nl-c', instanceTreeId: t as string, softwareReleaseId: 'nl-sr' });
  }
});
afterAll(async () => {
  await master?.stop();
  await rx?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the local master notifies', () => {
  it('the demo channel: bang events arrive signed with the secret logged once', async () => {
    expect(demoSecret).toMatch(/^vwh1_/);
    const ch = await api.getChannel('demo');
    expect(ch).toMatchObject({ kind: 'webhook', hasSecret: true });
    await bang('nl-b1');
    const [req] = await rx.waitForRequests(1, 20_000);
    expect(req!.url).toBe('/demo');
    expect(verifySignature(demoSecret, req!.rawBody, String(req!.headers['x-vigil-signature']))).toBe(true);
    const body = JSON.parse(req!.rawBody.toString('utf8'));
    expect(body).toMatchObject({ type: 'bang.accepted', partitionId: 'nl-b1', link: `${master.url}/trees/tree-b` });
  });

  it('a silence over a tree: its events are recorded, not delivered; after it ends, new events are', async () => {
    rx.requests.length = 0;
    const set = await admin('silence', 'set', 'maint-a', '--tree', 'tree-a', '--for', '2h', '--reason', 'upgrading tree a');
    expect(set.code).toBe(0);
    expect(set.out).toMatch(/silence maint-a created: instanceTreeId tree-a from .* \(active now\)/);
    await bang('nl-a1');
    await bang('nl-b1');
    // tree b's event arrives; tree a's is recorded with the silence mark
    const [got] = await rx.waitForRequests(1, 20_000);
    expect(JSON.parse(got!.rawBody.toString('utf8')).partitionId).toBe('nl-b1');
    const silenced = await until('the silenced event', async () => (await api.listEvents({ partitionId: 'nl-a1' })).events[0]);
    expect(silenced.event.silenced).toEqual({ silenceId: 'maint-a', reason: 'upgrading tree a' });
    expect(silenced.sendable).toBe(false);
    expect(silenced.deliveries).toEqual([{ channelId: 'demo', action: 'record-only', reason: 'silenced by maint-a: upgrading tree a' }]);
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.requests).toHaveLength(1);

    const list = await admin('silence', 'list', '--active');
    expect(list.out).toContain('maint-a');
    expect(list.out).toContain('instanceTreeId=tree-a');
    const end = await admin('silence', 'end', 'maint-a');
    expect(end.code).toBe(0);
    expect(end.out).toMatch(/silence maint-a ended at /);
    expect((await admin('silence', 'list', '--active')).out).toBe('(none)\n');

    await bang('nl-a2');
    const after = await rx.waitForRequests(2, 20_000);
    expect(JSON.parse(after[1]!.rawBody.toString('utf8')).partitionId).toBe('nl-a2');
    const events = await admin('event', 'list', '--partition', 'nl-a1');
    expect(events.out).toMatch(/bang\.accepted\s+nl-a1\s+no \(silenced\)/);
  });

  it('vigil admin channel set|list|show|rm: the secret once on stdout, masked URLs, exit codes', async () => {
    const set = await admin('channel', 'set', 'ops', '--kind', 'webhook', '--url', `${rx.url}/ops?key=topsecret`, '--events', 'bang.rejected,flapping.started', '--tree', 'tree-a');
    expect(set.code).toBe(0);
    expect(set.out.trim()).toMatch(/^vwh1_[A-Za-z0-9_-]{43}$/);
    expect(set.err).toContain('signing secret (shown once');
    const again = await admin('channel', 'set', 'ops', '--kind', 'webhook', '--url', `${rx.url}/ops2`);
    expect(again.out).toContain('channel ops updated: webhook →');
    const slack = await admin('channel', 'set', 'sl', '--kind', 'slack', '--url', 'https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdEFGH1234ijklMNOP5678');
    expect(slack.out).toContain('channel sl created: slack → https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcd…');
    const list = await admin('channel', 'list');
    expect(list.out).toMatch(/channelId\s+kind\s+url/);
    expect(list.out).not.toContain('abcdEFGH1234');
    expect(list.out).toContain('demo');
    const show = await admin('--json', 'channel', 'show', 'ops');
    expect(JSON.parse(show.out)).toMatchObject({ channelId: 'ops', hasSecret: true, backlog: 0 });
    expect((await admin('channel', 'rm', 'sl')).out).toBe('channel sl deleted (0 queued deliveries dropped)\n');
    // usage errors exit 2, API errors exit 1
    expect((await admin('channel', 'set', 'x', '--kind', 'email', '--url', 'https://x.example')).code).toBe(2);
    expect((await admin('channel', 'set', 'x', '--kind', 'webhook')).code).toBe(2);
    expect((await admin('silence', 'set', 's', '--tree', 't', '--reason', 'r')).code).toBe(2);
    expect((await admin('silence', 'set', 's', '--tree', 't', '--computer', 'c', '--for', '1h', '--reason', 'r')).code).toBe(2);
    expect((await admin('silence', 'set', 's', '--tree', 't', '--for', 'soon', '--reason', 'r')).code).toBe(2);
    const bad = await admin('channel', 'set', 'x', '--kind', 'webhook', '--url', 'ftp://x.example/');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('HTTP 400: body.url');
    expect((await admin('channel', 'show', 'nope')).code).toBe(1);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
  });

  it('latency from publish to the receiver (local, in-process loop)', async () => {
    // bang.rejected is published while the bang is refused (the receiver often has it before
    // the client has its 429): measured from the request, an upper bound of publish → receiver
    await api.putSoftwareRelease('nl-sr0', { url: 'https://example.com/nl0', bangQuotaPerDay: 0 });
    await api.putPartition('nl-z', { computerId: 'nl-c', instanceTreeId: 'tree-z', softwareReleaseId: 'nl-sr0' });
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) {
      const before = rx.requests.length;
      const t0 = Date.now();
      await bang('nl-z');
      const got = await rx.waitForRequests(before + 1, 20_000);
      samples.push(got[before]!.receivedAt - t0);
    }
    samples.sort((a, b) => a - b);
    console.log(`notify local latency (bang request → receiver), 10 bang.rejected: median ${samples[5]} ms, max ${samples[9]} ms`);
    expect(samples[5]).toBeLessThan(2000);
  });
});
