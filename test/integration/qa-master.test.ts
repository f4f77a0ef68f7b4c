// QA: the master as a new user drives it (curl-like requests, `vigil admin`), for the
// deviations from SPEC §3/§4 found by black-box testing.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createMasterServer, DISCARD_LIMIT_BYTES } from '../../functions/local/http-server.ts';
import { sqsSafeJson } from '../../functions/queue.ts';
import { parseBangMessage } from '../../functions/services/bang-message.ts';
import { BODY_LIMIT_BYTES, MAX_CLOCK_SKEW_SECONDS, ReportResponse } from '../../protocol/index.ts';
import { KeepAliveClient } from '../helpers/http-client.ts';
import { createTestMaster, errorBody, type TestMaster } from '../helpers/master.ts';
import { addComputer, addPartition, addSr, report, runAdmin } from '../helpers/master-fleet.ts';

/** What the tests read of the OpenAPI document. */
const Operation = z
  .object({ responses: z.record(z.string(), z.unknown()).optional(), parameters: z.array(z.object({ in: z.string(), name: z.string() })).optional() })
  .passthrough();
const OpenApiDoc = z.object({
  openapi: z.string(),
  info: z.object({ title: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), Operation)),
});

describe('qa: master API as curl sends it', () => {
  let m: TestMaster;
  let t1: string;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    m = await createTestMaster({ dashboard: false });
    await addSr(m, 'sr1');
    t1 = await addComputer(m, 'c1');
    await addComputer(m, 'c2');
    await addPartition(m, 'p1', 'c1', 't1', 'sr1');
    // the local master's HTTP server (functions/local/http-server.ts)
    server = createMasterServer({ fetch: m.app.fetch });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await m?.dispose();
  });

  const raw = (method: string, path: string, body: string | undefined, token: string | null = m.adminToken, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, body });

  it('PUT /v1/computers/{id} without a body registers with the defaults (201 + token)', async () => {
    const r = await raw('PUT', '/v1/computers/nobody', undefined);
    expect(r.status).toBe(201);
    const b = (await r.json()) as { computerId: string; token: string };
    expect(b.computerId).toBe('nobody');
    expect(b.token).toMatch(/^vc1\./);
    const c = await m.api.getComputer('nobody');
    expect(c.instantiationFrequencySeconds).toBe(86400);
    // again, empty body with a JSON content type: 200, no token
    const again = await raw('PUT', '/v1/computers/nobody', '', m.adminToken, { 'content-type': 'application/json' });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { token?: string }).token).toBeUndefined();
  });

  it('an empty body where fields are required: 400 naming the field, nothing written', async () => {
    const sr = await raw('PUT', '/v1/software-releases/empty', undefined);
    expect(sr.status).toBe(400);
    expect(((await sr.json()) as { message: string }).message).toContain('body.url');
    expect((await m.call('GET', '/v1/software-releases/empty')).status).toBe(404);
    const hb = await raw('POST', '/v1/computers/c1/heartbeat', '', t1);
    expect(hb.status).toBe(400);
    expect(((await hb.json()) as { message: string }).message).toContain('body.agentVersion');
  });

  it('numbers DynamoDB cannot store are 400 (too big) or rounded (too small), never a 5xx', async () => {
    const at = m.clock.now();
    const huge = await m.call('POST', '/v1/partitions/p1/reports', { ...report('huge', at), durationMs: 1e308 }, t1);
    expect(huge.status).toBe(400);
    expect(errorBody(huge).message).toContain('body.durationMs');
    const base = report('tiny', at);
    const tinyBody = {
      ...base,
      durationMs: 1e-200,
      promises: base.promises.map((p) => ({ ...p, executionTimeMs: 5e-324, periodicityMinutes: 1e-300 })),
    };
    const tiny = await m.call('POST', '/v1/partitions/p1/reports', tinyBody, t1);
    expect(tiny.status, JSON.stringify(tiny.body)).toBe(202);
    const p = await m.api.getPartition('p1');
    expect(p.lastReport).toMatchObject({ reportId: 'tiny', durationMs: 0 });
    const pr = await m.api.partitionPromises('p1');
    expect(pr.promises[0]?.latest).toMatchObject({ executionTimeMs: 0, periodicityMinutes: 0.001 });
    // prototype-looking promise names are plain names
    const proto = await m.call('POST', '/v1/partitions/p1/reports', report('proto', new Date(at.getTime() + 1000), [{ name: '__proto__' }, { name: 'constructor' }]), t1);
    expect(proto.status).toBe(202);
    expect((await m.api.getPartition('p1')).lastReport?.reportId).toBe('proto');
  });

  it('a long promise message (within 256 KiB) is accepted and capped to its last 5000 characters', async () => {
    const long = `${'x'.repeat(100_000)}THE END`;
    const at = new Date(m.clock.now().getTime() + 5000);
    const r = await m.call('POST', '/v1/partitions/p1/reports', { ...report('long', at, [{ name: 'chatty', failed: true, message: long }]), error: long }, t1);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const pr = await m.api.partitionPromises('p1');
    const latest = pr.promises.find((p) => p.name === 'chatty')?.latest;
    expect(latest?.message).toHaveLength(5000);
    expect(latest?.message.endsWith('THE END')).toBe(true);
    const b = await m.call('POST', '/v1/partitions/p1/bang', { bangId: 'long-bang', message: long, source: 'manual' }, t1);
    expect(b.status).toBe(202);
    const bang = (await m.api.listBangs({ partitionId: 'p1' })).bangs.find((x) => x.bangId === 'long-bang');
    expect(bang?.message).toHaveLength(5000);
  });

  it('a promise named constructor is tracked for crimes like any other', async () => {
    await addPartition(m, 'pc', 'c1', 'tc', 'sr1');
    const t0 = m.clock.now().getTime();
    for (let i = 0; i < 3; i++) {
      const r = await m.call('POST', '/v1/partitions/pc/reports', report(`c${i}`, new Date(t0 + i * 120_000), [{ name: 'constructor', failed: true }]), t1);
      expect(r.status).toBe(202);
    }
    const p = await m.api.getPartition('pc');
    expect(p.colourReason).toContain('promise constructor failed');
    expect(p.crimes.map((c) => c.message)).toContain('promise constructor never passed (failed in 3 reports)');
  });

  it('valid-shaped reports and bangs with arbitrary strings and numbers never get a 5xx', async () => {
    const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
    const num = fc.oneof(fc.double({ min: 0, max: 1e12, noNaN: true }), fc.constantFrom(0, 5e-324, 1e-200, 1e-7, 2 ** 53));
    const date = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
    let n = 0;
    const logged = vi.spyOn(console, 'error');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ name, title: name, failed: fc.boolean(), message: fc.string({ unit: 'binary', maxLength: 200 }), date, executionTimeMs: num }), { maxLength: 5 }),
        num,
        date,
        fc.boolean(),
        fc.oneof(fc.string({ unit: 'binary', maxLength: 100 }), fc.constantFrom('\uFFFF', 'x\uFFFE\u0000\uD800')),
        async (promises, durationMs, startedAt, ok2, msg) => {
          n += 1;
          const body = { reportId: `f${n}`, kind: 'anomaly', startedAt, durationMs, ok: ok2, error: msg, promises: promises.map((p) => ({ ...p, kind: 'test' })), reprocessedUpTo: startedAt };
          const r = await m.call('POST', '/v1/partitions/p1/reports', body, t1);
          expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
          const b = await m.call('POST', '/v1/partitions/p1/bang', { bangId: `fb${n}`, message: msg, source: 'promise' }, t1);
          expect(b.status, JSON.stringify(b.body)).toBeLessThan(500);
        },
      ),
      { numRuns: 30 },
    );
    // nothing fell back to the inline fan-out because SQS refused the message (U+FFFE/U+FFFF)
    expect(logged.mock.calls.map((c) => String(c[0])).filter((x) => x.includes('queue send failed'))).toEqual([]);
    logged.mockRestore();
    expect((await m.call('GET', '/v1/partitions/p1/promises')).status).toBe(200);
    expect((await m.call('GET', '/v1/bangs?partitionId=p1')).status).toBe(200);
  });

  it('reports with repeated promise names and dates far ahead, near and far back never get a 5xx; what was changed is said', async () => {
    const now = () => m.clock.now().getTime();
    const skew = MAX_CLOCK_SKEW_SECONDS * 1000;
    const date = fc.oneof(
      fc.integer({ min: -skew, max: skew }).map((d) => new Date(now() + d).toISOString()), // near the master's clock
      fc.date({ min: new Date(now() + skew + 1), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()), // far ahead
      fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date(now() - 86_400_000), noInvalidDate: true }).map((d) => d.toISOString()), // far back
    );
    const name = fc.oneof(fc.constantFrom('a.json', 'b.json', '__proto__', 'constructor'), fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ name, failed: fc.boolean(), date }), { maxLength: 8 }),
        date,
        async (promises, startedAt) => {
          n += 1;
          const body = {
            reportId: `dup${n}`,
            kind: 'instantiation',
            startedAt,
            durationMs: 1,
            ok: true,
            promises: promises.map((p) => ({ ...p, title: 't', kind: 'test', message: 'm', executionTimeMs: 1 })),
          };
          const r = await m.call('POST', '/v1/partitions/p1/reports', body, t1);
          expect(r.status, JSON.stringify(r.body)).toBe(202);
          const latest = now() + skew;
          const expected = [
            ...(Date.parse(startedAt) > latest ? ['body.startedAt'] : []),
            ...promises.flatMap((p, i) => {
              if (promises.findLastIndex((q) => q.name === p.name) !== i) return [`body.promises.${i}.name`];
              return Date.parse(p.date) > latest ? [`body.promises.${i}.date`] : [];
            }),
          ];
          expect((ReportResponse.parse(r.body).warnings ?? []).map((w) => w.field)).toEqual(expected);
          const p = await m.api.getPartition('p1');
          expect(Date.parse(p.lastReport?.startedAt ?? '')).toBeLessThanOrEqual(latest);
        },
      ),
      { numRuns: 40 },
    );
    const pr = await m.api.partitionPromises('p1');
    for (const h of pr.promises) expect(Date.parse(h.latest.date)).toBeLessThanOrEqual(now() + skew);
  });

  it('a body over the limit, on any route, with any token: a 4xx, then the next request on the same connection works', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          ['POST', '/v1/partitions/p1/reports'],
          ['POST', '/v1/partitions/p1/bang'],
          ['POST', '/v1/computers/c1/heartbeat'],
          ['PUT', '/v1/software-releases/big'],
          ['PUT', '/v1/nowhere'],
          ['POST', '/login'],
          ['POST', '/logout'],
        ),
        fc.constantFrom<(string | null)[]>(t1, m.adminToken, 'wrong', null),
        fc.integer({ min: BODY_LIMIT_BYTES - 2048, max: DISCARD_LIMIT_BYTES + 512 * 1024 }),
        fc.boolean(),
        async ([method, path], token, size, chunked) => {
          const c = new KeepAliveClient(url);
          try {
            const first = await c.request(method!, path!, {
              headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
              body: `{"x":"${'y'.repeat(size - 8)}"}`,
              chunked,
            });
            expect(first.status, `${method} ${path} ${size} B: ${first.text.slice(0, 200)}`).toBeGreaterThanOrEqual(300);
            expect(first.status).toBeLessThan(500);
            if (size > BODY_LIMIT_BYTES) expect(first.status).toBe(413);
            const next = await c.request('POST', '/v1/computers/c1/heartbeat', { headers: { authorization: `Bearer ${t1}`, 'content-type': 'application/json' }, body: '{"agentVersion":"qa"}' });
            expect(next.status).toBe(200);
            // up to the discard limit the very same connection carries the next request
            if (size <= DISCARD_LIMIT_BYTES) expect(next.connection).toBe(first.connection);
          } finally {
            c.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('bang messages with any character reach SQS intact (no inline fallback)', async () => {
    const message = { bangId: 'b', partitionId: 'p', computerId: 'c', instanceTreeId: 't', requestedAt: '2025-01-01T00:00:00.000Z', reason: 'é💥\uFFFF\u0000\uD800 ok' };
    const body = sqsSafeJson(message);
    expect(body).toMatch(/^[\x20-\x7e]*$/);
    expect(parseBangMessage(body)).toEqual(message);
  });

  it('moving a partition to another computer is a 409 unless ?move=true', async () => {
    await addPartition(m, 'mv', 'c1', 'tmv', 'sr1');
    const body = { computerId: 'c2', instanceTreeId: 'tmv', softwareReleaseId: 'sr1' };
    const r = await m.call('PUT', '/v1/partitions/mv', body);
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ error: 'conflict', details: { computerId: 'c1' } });
    expect(errorBody(r).message).toContain('body.computerId');
    expect((await m.api.getPartition('mv')).computerId).toBe('c1');
    // same computer: a plain update (200)
    expect((await m.call('PUT', '/v1/partitions/mv', { ...body, computerId: 'c1', instanceTreeId: 'tmv2' })).status).toBe(200);
    const moved = await m.call('PUT', '/v1/partitions/mv?move=true', body);
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ computerId: 'c2' });
    expect((await m.call('PUT', '/v1/partitions/mv?move=maybe', body)).status).toBe(400);
  });

  it('/openapi.json is OpenAPI 3 and lists the public paths too', async () => {
    const doc = OpenApiDoc.parse((await m.call('GET', '/openapi.json', undefined, null)).body);
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBeTruthy();
    for (const p of ['/', '/openapi.json', '/healthz']) expect(doc.paths[p], p).toBeTruthy();
    expect(doc.paths['/v1/partitions/{partitionId}']?.put?.responses?.['409']).toBeTruthy();
    // every operation has responses, every path parameter is declared
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const op of Object.values(item)) {
        expect(Object.keys(op.responses ?? {}).length, path).toBeGreaterThan(0);
        for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((x) => x[1])) {
          expect(
            (op.parameters ?? []).some((p) => p.in === 'path' && p.name === name),
            `${path} declares {${name}}`,
          ).toBe(true);
        }
      }
    }
  });

  describe('vigil admin', () => {
    const admin = (...args: string[]) => runAdmin(url, m.adminToken, ...args);

    it('computer add prints the token alone on stdout, once', async () => {
      const add = await admin('computer', 'add', 'cli1');
      expect(add.code).toBe(0);
      const token = add.out.trim();
      expect(token).toMatch(/^vc1\.\S+$/);
      expect(add.err).toContain('shown once');
      const hb = await m.call('POST', '/v1/computers/cli1/heartbeat', { agentVersion: 'qa' }, token);
      expect(hb.status).toBe(200);
      const again = await admin('computer', 'add', 'cli1');
      expect(again.code).toBe(0);
      expect(again.out).not.toContain('vc1.');
      const rot = await admin('computer', 'token', 'cli1');
      expect(rot.out.trim()).toMatch(/^vc1\.\S+$/);
      expect(rot.out.trim()).not.toBe(token);
    });

    it('sr set and partition set accept the API field names as flags, and sr set ID URL', async () => {
      const sr = await admin('sr', 'set', 'cli-sr', 'https://example.com/sr.cfg', '--periodicity-seconds', '3600', '--bang-quota-per-day', '3');
      expect(sr.code, sr.err).toBe(0);
      expect(await m.api.getSoftwareRelease('cli-sr')).toMatchObject({ url: 'https://example.com/sr.cfg', periodicitySeconds: 3600, bangQuotaPerDay: 3 });
      const p = await admin('partition', 'set', 'cli-p', '--computer-id', 'c1', '--instance-tree-id', 'cli-t', '--software-release-id', 'cli-sr');
      expect(p.code, p.err).toBe(0);
      expect(await m.api.getPartition('cli-p')).toMatchObject({ computerId: 'c1', instanceTreeId: 'cli-t', softwareReleaseId: 'cli-sr' });
      const conflict = await admin('partition', 'set', 'cli-p', '--computer', 'c2', '--tree', 'cli-t', '--sr', 'cli-sr');
      expect(conflict.code).toBe(1);
      expect(conflict.err).toContain('HTTP 409');
      expect((await admin('partition', 'set', 'cli-p', '--computer', 'c2', '--tree', 'cli-t', '--sr', 'cli-sr', '--move')).code).toBe(0);
      expect((await admin('sr', 'set', 'x', 'u1', 'u2')).code).toBe(2);
    });
  });
});

describe('qa: colours as SPEC §3 words them (master clock)', () => {
  let m: TestMaster;
  beforeAll(async () => {
    m = await createTestMaster({ dashboard: false });
  });
  afterAll(() => m?.dispose());

  it('partition: max report age follows later changes of SR periodicity and computer frequency; bangs; reasons', async () => {
    await addSr(m, 'srx');
    const tok = await addComputer(m, 'cx');
    await addPartition(m, 'px', 'cx', 'tx', 'srx');
    expect(await m.api.getPartition('px')).toMatchObject({ colour: 'red', colourReason: 'no report yet' });
    expect((await m.call('POST', '/v1/partitions/px/reports', report('r1', m.clock.now()), tok)).status).toBe(202);
    expect(await m.api.getPartition('px')).toMatchObject({ colour: 'green' });
    m.clock.advance(26 * 3600_000);
    expect(await m.api.getPartition('px')).toMatchObject({ colour: 'red', colourReason: 'last report 26 h ago' });
    expect((await m.call('POST', '/v1/partitions/px/reports', report('r2', m.clock.now()), tok)).status).toBe(202);
    // the SR periodicity set afterwards shortens the allowed age
    await addSr(m, 'srx', { periodicitySeconds: 3600 });
    m.clock.advance(30 * 60_000);
    expect((await m.api.getPartition('px')).colour).toBe('green');
    m.clock.advance(31 * 60_000);
    expect(await m.api.getPartition('px')).toMatchObject({ colour: 'red', colourReason: 'last report 61 min ago' });
    // the computer frequency set afterwards shortens it further
    expect((await m.call('POST', '/v1/partitions/px/reports', report('r3', m.clock.now()), tok)).status).toBe(202);
    expect((await m.call('PUT', '/v1/computers/cx', { instantiationFrequencySeconds: 600 })).status).toBe(200);
    m.clock.advance(9 * 60_000);
    expect((await m.api.getPartition('px')).colour).toBe('green');
    m.clock.advance(2 * 60_000);
    expect(await m.api.getPartition('px')).toMatchObject({ colour: 'red', colourReason: 'last report 11 min ago' });
    // a bang after the last report
    expect((await m.call('POST', '/v1/partitions/px/reports', report('r4', m.clock.now()), tok)).status).toBe(202);
    m.clock.advance(1000);
    const bangAt = m.clock.now().toISOString();
    expect((await m.call('POST', '/v1/partitions/px/bang', { bangId: 'bx', message: 'down', source: 'manual' }, tok)).status).toBe(202);
    expect(await m.api.getPartition('px')).toMatchObject({ colour: 'red', colourReason: `bang at ${bangAt} after the last report` });
    m.clock.advance(1000);
    expect((await m.call('POST', '/v1/partitions/px/reports', report('r5', m.clock.now()), tok)).status).toBe(202);
    expect((await m.api.getPartition('px')).colour).toBe('green');
    const failed = await m.call('POST', '/v1/partitions/px/reports', report('r6', new Date(m.clock.now().getTime() + 1), [{ name: 'web.json', failed: true, message: 'HTTP 503' }]), tok);
    expect(failed.status).toBe(202);
    expect(await m.api.getPartition('px')).toMatchObject({ colour: 'red', colourReason: 'promise web.json failed: HTTP 503' });
  });

  it('computer: green < 5 min, orange < 1 h, else red', async () => {
    const tok = await addComputer(m, 'cc');
    expect((await m.api.getComputer('cc')).colour).toBe('red');
    expect((await m.call('POST', '/v1/computers/cc/heartbeat', { agentVersion: 'qa' }, tok)).status).toBe(200);
    const at = (ms: number) => {
      m.clock.advance(ms);
      return m.api.getComputer('cc');
    };
    expect((await at(4 * 60_000 + 59_000)).colour).toBe('green');
    expect((await at(1000)).colour).toBe('orange');
    expect((await at(54 * 60_000 + 59_000)).colour).toBe('orange');
    expect((await at(1000)).colour).toBe('red');
    const list = await m.api.listComputers();
    expect(list.computers.find((c) => c.computerId === 'cc')).toMatchObject({ colour: 'red' });
    expect(typeof list.computers[0]?.colourReason).toBe('string');
  });
});
