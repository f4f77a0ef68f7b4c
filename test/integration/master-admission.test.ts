// The local master's admission gate over real sockets (functions/local/admission.ts through
// http-server.ts): a few ordinary requests at a time, heartbeats, bangs and /healthz never wait.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIT_CONCURRENT } from '../../functions/local/admission.ts';
import { createMasterServer } from '../../functions/local/http-server.ts';
import { KeepAliveClient } from '../helpers/http-client.ts';

/** An app whose ordinary requests wait for `release(path)`; heartbeats, bangs and /healthz answer at once. */
function heldApp() {
  const entered: string[] = [];
  const waiting = new Map<string, () => void>();
  const fetch = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (path === '/healthz' || path.endsWith('/heartbeat') || path.endsWith('/bang')) return Response.json({ path });
    entered.push(path);
    if (path.startsWith('/fail/')) throw new Error('the handler failed');
    await new Promise<void>((r) => waiting.set(path, r));
    return Response.json({ path });
  };
  const release = (path: string) => {
    const r = waiting.get(path);
    if (!r) throw new Error(`${path} is not in the app`);
    waiting.delete(path);
    r();
  };
  return { fetch, entered, release };
}

let server: http.Server | null = null;
async function serve(fetch: (req: Request) => Promise<Response>): Promise<string> {
  server = createMasterServer({ fetch });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
});

const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
};

describe('local master admission gate', () => {
  it(`${ADMIT_CONCURRENT} ordinary requests in the app at once; heartbeats, bangs and /healthz answer meanwhile; the others enter in turn`, async () => {
    const app = heldApp();
    const url = await serve(app.fetch);
    const n = ADMIT_CONCURRENT + 3;
    const reports = Array.from({ length: n }, (_, i) =>
      fetch(`${url}/v1/partitions/p${i}/reports`, { method: 'POST', body: JSON.stringify({ i }), headers: { 'content-type': 'application/json' } }).then((r) => r.json()),
    );
    await until(`${ADMIT_CONCURRENT} in the app`, () => app.entered.length === ADMIT_CONCURRENT);
    await new Promise((r) => setTimeout(r, 50));
    expect(app.entered).toHaveLength(ADMIT_CONCURRENT);

    const beat = await fetch(`${url}/v1/computers/COMP-1/heartbeat`, { method: 'POST', body: '{}' });
    const bang = await fetch(`${url}/v1/partitions/p0/bang`, { method: 'POST', body: '{}' });
    const health = await fetch(`${url}/healthz`);
    expect([beat.status, bang.status, health.status]).toEqual([200, 200, 200]);
    expect(app.entered).toHaveLength(ADMIT_CONCURRENT);

    // each answer frees a slot for the next in arrival order
    for (let i = 0; i < n; i++) {
      await until(`p${i} in the app`, () => app.entered.includes(`/v1/partitions/p${i}/reports`));
      app.release(`/v1/partitions/p${i}/reports`);
    }
    expect((await Promise.all(reports)).map((b) => (b as { path: string }).path)).toEqual(Array.from({ length: n }, (_, i) => `/v1/partitions/p${i}/reports`));
  });

  it('a waiting request whose client went away never enters the app; an answer on a kept-alive connection frees its slot', async () => {
    const app = heldApp();
    const url = await serve(app.fetch);
    const clients = Array.from({ length: ADMIT_CONCURRENT }, () => new KeepAliveClient(url));
    const first = clients.map((c, i) => c.request('GET', `/held/${i}`));
    await until('every slot taken', () => app.entered.length === ADMIT_CONCURRENT);
    const abort = new AbortController();
    const gone = fetch(`${url}/gone`, { signal: abort.signal }).catch((e: Error) => e.name);
    const next = fetch(`${url}/next`).then((r) => r.status);
    await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    expect(await gone).toBe('AbortError');
    await new Promise((r) => setTimeout(r, 50));
    app.release('/held/0');
    expect((await first[0])?.status).toBe(200);
    await until('/next in the app', () => app.entered.includes('/next'));
    expect(app.entered).not.toContain('/gone');
    app.release('/next');
    expect(await next).toBe(200);
    // the kept-alive connection of /held/0 goes on, through a slot of its own
    const again = clients[0]?.request('GET', '/held/again');
    await until('/held/again in the app', () => app.entered.includes('/held/again'));
    app.release('/held/again');
    expect((await again)?.reused).toBe(true);
    for (let i = 1; i < ADMIT_CONCURRENT; i++) app.release(`/held/${i}`);
    expect((await Promise.all(first)).map((a) => a.status)).toEqual(Array(ADMIT_CONCURRENT).fill(200));
    for (const c of clients) c.agent.destroy();
  });

  it('requests the app fails (500) free their slots: more failures than slots, then an ordinary request still runs', async () => {
    const app = heldApp();
    const url = await serve(app.fetch);
    const statuses = await Promise.all(Array.from({ length: ADMIT_CONCURRENT * 3 }, (_, i) => fetch(`${url}/fail/${i}`).then((r) => r.status)));
    expect(statuses).toEqual(Array(ADMIT_CONCURRENT * 3).fill(500));
    const ok = fetch(`${url}/after`).then((r) => r.status);
    await until('/after in the app', () => app.entered.includes('/after'));
    app.release('/after');
    expect(await ok).toBe(200);
  });
});
