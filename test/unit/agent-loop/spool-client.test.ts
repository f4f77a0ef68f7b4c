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
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
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
    expect(r1).toEqual({ sent: 4, dropped: 1, parked: 0, remaining: 15, stopped: 'down' });
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

describe('master client: a 2xx is an acknowledgement only with the expected answer', () => {
  async function server(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const s = createServer(handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }
  const body = report('r-1').body;

  it('HTML, wrong content type, broken JSON, missing or other ids: retryable failures, never an ack', async () => {
    const answers: [string, string][] = [
      ['text/html', '<html>captive portal</html>'],
      ['text/plain', JSON.stringify({ reportId: 'r-1', status: 'accepted' })],
      ['application/json', '{"reportId": "r-1", '],
      ['application/json', JSON.stringify({ ok: true })],
      ['application/json', JSON.stringify({ reportId: 'someone-else', status: 'accepted' })],
      ['application/json', JSON.stringify({ reportId: 'r-1', status: 'maybe' })],
      ['application/json', ''],
    ];
    let i = 0;
    const url = await server((_req, res) => {
      const [type, text] = answers[i++ % answers.length]!;
      res.writeHead(200, { 'content-type': type });
      res.end(text);
    });
    const c = createMasterClient({ masterUrl: url, computerId: 'c', token: 't' });
    for (let k = 0; k < answers.length; k++) {
      const r = await c.report('p1', body);
      expect(r, `answer ${k}: ${answers[k]![0]} ${answers[k]![1]}`).toMatchObject({ ok: false, status: 200, retryable: true });
      expect(!r.ok && r.message).toMatch(/unexpected answer/);
    }
    // the real answer is an ack
    const good = await server((_req, res) => {
      res.writeHead(202, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify({ reportId: 'r-1', status: 'duplicate' }));
    });
    expect(await createMasterClient({ masterUrl: good, computerId: 'c', token: 't' }).report('p1', body)).toMatchObject({
      ok: true,
      status: 202,
    });
  });

  it('a body that never ends is a timeout (retryable), not an acknowledgement', async () => {
    const url = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"reportId": "r-1", "status": "accep');
      // ...and never ends
    });
    const c = createMasterClient({ masterUrl: url, computerId: 'c', token: 't', timeoutMs: 300 });
    const r = await c.report('p1', body);
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(!r.ok && r.message).toMatch(/no complete answer within 300 ms/);
    const hb = await c.heartbeat();
    expect(hb).toMatchObject({ ok: false, retryable: true });
  });

  it('a 200 heartbeat that is not the master\'s answer is a failed heartbeat (not "no partitions")', async () => {
    const url = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>welcome to the hotel wifi</html>');
    });
    const hb = await createMasterClient({ masterUrl: url, computerId: 'c', token: 't' }).heartbeat();
    expect(hb).toMatchObject({ ok: false, status: 200, retryable: true });
    const json = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ hello: 'world' }));
    });
    expect(await createMasterClient({ masterUrl: json, computerId: 'c', token: 't' }).heartbeat()).toMatchObject({ ok: false, status: 200 });
    const bang = await server((_req, res) => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ bangId: 'other', fannedOutTo: 3 }));
    });
    expect(
      await createMasterClient({ masterUrl: bang, computerId: 'c', token: 't' }).bang('p1', { bangId: 'b1', message: 'm', source: 'manual' }),
    ).toMatchObject({ ok: false, status: 202, retryable: true });
  });
});
