import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMasterClient } from '../../../agent/client.ts';
import { Spool } from '../../../agent/spool.ts';

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-spool-'));
  dirs.push(d);
  return d;
};

const report = (id: string) => ({
  kind: 'report' as const,
  partitionId: 'p1',
  queuedAt: new Date().toISOString(),
  body: { reportId: id, kind: 'anomaly' as const, startedAt: new Date().toISOString(), durationMs: 1, ok: true, promises: [] },
});

describe('spool', () => {
  it('replays in enqueue order across instances, stops at the first retry, drops on demand', async () => {
    const dir = tmp();
    const a = new Spool(dir);
    for (let i = 0; i < 20; i++) a.enqueue(report(`r${i}`));
    expect(a.depth()).toBe(20);
    // a "restarted" agent sees the same items in the same order
    const b = new Spool(dir);
    const seen: string[] = [];
    const r1 = await b.flush(async (item) => {
      const id = item.kind === 'report' ? item.body.reportId : item.body.bangId;
      if (id === 'r5') return { outcome: 'retry', reason: 'down' };
      seen.push(id);
      return id === 'r3' ? { outcome: 'drop', reason: 'rejected' } : { outcome: 'ack' };
    });
    expect(seen).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(r1).toEqual({ sent: 4, dropped: 1, remaining: 15, stopped: 'down' });
    const rest: string[] = [];
    await b.flush(async (item) => {
      rest.push(item.kind === 'report' ? item.body.reportId : item.body.bangId);
      return { outcome: 'ack' };
    });
    expect(rest).toEqual(Array.from({ length: 15 }, (_, i) => `r${i + 5}`));
    expect(b.depth()).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('.tmp'))).toEqual([]);
  });

  it('sets unreadable items aside instead of replaying or crashing', async () => {
    const dir = tmp();
    const s = new Spool(dir);
    s.enqueue(report('good'));
    writeFileSync(join(dir, '000000000000001-000000-ab.json'), '{not json');
    const bad: string[] = [];
    const items = s.list((f) => bad.push(f));
    expect(items.map((i) => i.kind === 'report' && i.body.reportId)).toEqual(['good']);
    expect(bad).toEqual(['000000000000001-000000-ab.json']);
    expect(readdirSync(dir)).toContain('000000000000001-000000-ab.json.bad');
  });
});

describe('master client', () => {
  async function server(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const s = createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  it('sends the bearer token to the SPEC paths and classifies answers', async () => {
    const calls: string[] = [];
    const url = await server((req, res) => {
      calls.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      if (req.url?.endsWith('/heartbeat')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ serverTime: new Date().toISOString(), reprocess: [], partitions: [] }));
      } else if (req.url?.endsWith('/bang')) {
        res.writeHead(429, { 'retry-after': '120', 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'quota', message: 'bang quota reached' }));
      } else {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'forbidden', message: 'not your partition' }));
      }
    });
    const c = createMasterClient({ masterUrl: `${url}/`, computerId: 'c 1', token: 'tok' });
    const hb = await c.heartbeat();
    expect(hb.ok).toBe(true);
    const bang = await c.bang('p1', { bangId: 'b1', message: 'x', source: 'promise' });
    expect(bang).toMatchObject({ ok: false, status: 429, retryable: true, retryAfterSeconds: 120 });
    const rep = await c.report('p1', report('r').body);
    expect(rep).toMatchObject({ ok: false, status: 403, retryable: false });
    expect(!rep.ok && rep.message).toMatch(/not your partition/);
    expect(calls).toEqual([
      'POST /v1/computers/c%201/heartbeat Bearer tok',
      'POST /v1/partitions/p1/bang Bearer tok',
      'POST /v1/partitions/p1/reports Bearer tok',
    ]);
  });

  it('times out and reports network errors as retryable', async () => {
    const url = await server(() => {
      // never answers
    });
    const c = createMasterClient({ masterUrl: url, computerId: 'c', token: 't', timeoutMs: 200 });
    const t0 = Date.now();
    const r = await c.heartbeat();
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(Date.now() - t0).toBeLessThan(2000);
    const down = createMasterClient({ masterUrl: 'http://127.0.0.1:1', computerId: 'c', token: 't' });
    expect(await down.heartbeat()).toMatchObject({ ok: false, retryable: true });
  });
});
