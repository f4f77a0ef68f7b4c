// The embedded local master (dynalite on disk + fauxqs + fan-out poller + sweep) and the
// `vigil admin` client against it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type LocalMaster, startLocalMaster } from '../../functions/local/master.ts';
import { createVigilClient, type VigilClient } from '../../protocol/client.ts';
import { ComputerList } from '../../protocol/index.ts';
import { runAdmin } from '../helpers/master-fleet.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-local-'));
let master: LocalMaster | null = null;
afterAll(async () => {
  await master?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The typed client of the running master with `token`. */
function api(token: string): VigilClient {
  if (!master) throw new Error('no master');
  return createVigilClient({ baseUrl: master.url, token });
}

function admin(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runAdmin(master?.url ?? 'http://127.0.0.1:1', master?.adminToken ?? 'x', ...args);
}

it('serves the demo fleet, fans bangs out through the queue, and keeps its data across restarts', async () => {
  const envToken = process.env.VIGIL_ADMIN_TOKEN;
  delete process.env.VIGIL_ADMIN_TOKEN;
  try {
    master = await startLocalMaster({ port: 0, dataDir: dir, demo: true });
  } finally {
    if (envToken !== undefined) process.env.VIGIL_ADMIN_TOKEN = envToken;
  }
  const adminToken = master.adminToken;
  expect(readFileSync(join(dir, 'admin-token'), 'utf8').trim()).toBe(adminToken);
  expect((await fetch(`${master.url}/healthz`)).status).toBe(200);
  const parts = await api(adminToken).listPartitions();
  expect(parts.partitions.map((p) => p.partitionId).sort()).toEqual(['demo-db', 'demo-web', 'demo-worker']);
  const demo = master.demo;
  if (!demo) throw new Error('no demo');
  const token = readFileSync(demo.tokenFile, 'utf8').trim();

  const bang = await api(token).raw('POST', '/v1/partitions/demo-web/bang', { body: { bangId: 'local-bang', message: 'down', source: 'watchdog' } });
  expect({ status: bang.status, body: bang.body }).toEqual({ status: 202, body: { bangId: 'local-bang', fannedOutTo: 3 } });
  const t0 = Date.now();
  let flagged: string[] = [];
  while (Date.now() - t0 < 10_000) {
    const hb = await api(token).heartbeat('demo-computer', { agentVersion: 'test' });
    flagged = hb.reprocess.map((r) => r.partitionId).sort();
    if (flagged.length === 3) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(flagged).toEqual(['demo-db', 'demo-web', 'demo-worker']);

  // vigil admin against it.
  const add = await admin('computer', 'add', 'cli-computer', '--frequency', '3600');
  expect(add.code).toBe(0);
  // stdout is the token alone (so `vigil admin computer add ID > ID.token` works); the note goes to stderr.
  expect(add.out.trim()).toMatch(/^vc1\.\S+$/);
  expect(add.err).toContain('shown once');
  expect((await admin('sr', 'set', 'cli-sr', '--url', 'https://example.com/sr', '--quota', '3')).code).toBe(0);
  expect((await admin('partition', 'set', 'cli-part', '--computer', 'cli-computer', '--tree', 'cli-tree', '--sr', 'cli-sr')).code).toBe(0);
  const list = await admin('partition', 'list', '--tree', 'cli-tree');
  expect(list.out).toContain('cli-part');
  const json = await admin('--json', 'computer', 'list');
  expect(ComputerList.parse(JSON.parse(json.out)).computers.map((c) => c.computerId).sort()).toEqual(['cli-computer', 'demo-computer']);
  const bangs = await admin('bang', 'list');
  expect(bangs.out).toContain('local-bang');
  const usage = await admin('partition', 'set', 'x');
  expect(usage.code).toBe(2);
  expect(usage.err).toContain('--computer is required');
  expect((await admin('computer', 'show', 'nope')).code).toBe(1);
  expect((await admin('--token', 'wrong', 'computer', 'list')).err).toContain('HTTP 401');

  // Promise history, kept 7 days.
  const at = new Date().toISOString();
  const rep = { reportId: 'local-r', kind: 'anomaly', startedAt: at, durationMs: 5, ok: true, promises: [{ name: 'a.json', title: 'a', kind: 'anomaly', failed: false, message: 'ok', date: at, executionTimeMs: 1 }] };
  expect((await api(token).raw('POST', '/v1/partitions/demo-web/reports', { body: rep })).status).toBe(202);
  expect((await api(adminToken).partitionPromises('demo-web')).promises).toHaveLength(1);

  // Restart on the same data dir, 8 days later: same admin token, same data, and the local
  // TTL emulation (run at start, then every 10 min) has deleted the expired history.
  await master.stop();
  const later = Date.now() + 8 * 86_400_000;
  master = await startLocalMaster({ port: 0, dataDir: dir, now: () => new Date(later) });
  expect((await master.store.listHistory('demo-web', { limit: 100 })).items).toEqual([]);
  expect((await api(adminToken).getPartition('demo-web')).lastReport).toMatchObject({ reportId: 'local-r' });
  expect(await master.expire()).toBe(0);
  expect(master.adminToken).toBe(adminToken);
  const c = await api(adminToken).getComputer('cli-computer');
  expect(c).toMatchObject({ computerId: 'cli-computer', instantiationFrequencySeconds: 3600 });
  const b = await api(adminToken).listBangs();
  expect(b.bangs[0]).toMatchObject({ bangId: 'local-bang', fanOut: 'done', fannedOutTo: 3 });
});
