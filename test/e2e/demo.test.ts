// `vigil master --demo` (npm start): the demo agent shows green, red, a bang and the
// re-instantiation of the whole demo tree, well within two minutes.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, api, cleanup, freePort, type Proc, spawnVigil, tempDir, waitFor } from '../helpers/agent-loop.ts';

const procs: Proc[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  cleanup(...dirs.splice(0));
});

type Part = { partitionId: string; colour: string; lastReport: { kind: string; ok: boolean; startedAt: string } | null };

describe('vigil master --demo', () => {
  it('green, red, a bang and the re-instantiation of the tree at /v1/partitions and /v1/bangs', async () => {
    const dir = tempDir('vigil-demo-');
    dirs.push(dir);
    const port = await freePort();
    const t0 = Date.now();
    // the crash of demo-db comes 5 s after its first instantiation instead of 25 s
    const master = spawnVigil(['master', '--demo', '--port', String(port), '--data-dir', join(dir, 'data')], {
      VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
      VIGIL_DEMO_BREAK_AFTER: '5',
    });
    procs.push(master);
    const url = `http://127.0.0.1:${port}`;
    const tree = async () => (await api<{ partitions: Part[] }>(url, 'GET', '/v1/partitions?instanceTreeId=demo-tree')).body.partitions;
    const seen = { green: false, red: false };
    const observe = async () => {
      const ps = await tree();
      if (ps.length === 3 && ps.every((p) => p.colour === 'green')) seen.green = true;
      if (seen.green && ps.find((p) => p.partitionId === 'demo-db')?.colour === 'red') seen.red = true;
      return ps;
    };
    await waitFor(`all green\n${master.output()}`, async () => {
      await observe();
      return seen.green;
    }, 60_000, 200);
    const bang = await waitFor('a bang from demo-db', async () => {
      await observe();
      const b = (await api<{ bangs: { partitionId: string; source: string; createdAt: string }[] }>(url, 'GET', '/v1/bangs')).body.bangs;
      return b.find((x) => x.partitionId === 'demo-db');
    }, 60_000, 200);
    expect(bang.source).toBe('promise');
    const ps = await waitFor('the whole tree re-instantiated after the bang, green again', async () => {
      const list = await observe();
      return list.every(
        (p) => p.colour === 'green' && p.lastReport?.kind === 'instantiation' && p.lastReport.startedAt > bang.createdAt,
      )
        ? list
        : undefined;
    }, 60_000, 200);
    expect(seen.red).toBe(true);
    expect(ps.map((p) => p.partitionId).sort()).toEqual(['demo-db', 'demo-web', 'demo-worker']);
    expect(Date.now() - t0).toBeLessThan(120_000);
    expect(master.output()).toMatch(/BANG/);
  });
});
