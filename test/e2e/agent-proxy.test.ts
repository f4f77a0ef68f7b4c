// The agent behind a misbehaving network (issue 9): real `vigil master`, real `vigil agent`,
// and between them an HTTP proxy on 127.0.0.1 that this test drives through an outage, a
// captive portal answering 200 text/html, a 200 whose body never ends, slow answers, and a
// 500 for every report of one partition. Whatever happens: nothing is lost (every report the
// agent made is stored at the master in the end), no partition is blocked by another, and the
// heartbeats keep coming (at the agent's bound, its --interval here; 60 s by default).
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import {
  api,
  cleanup,
  instantiationCount,
  makePartition,
  type Proc,
  seedFleet,
  spawnVigil,
  startMaster,
  tempDir,
  VIGIL,
  waitFor,
} from '../helpers/agent-loop.ts';

const procs: Proc[] = [];
const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  cleanup(...dirs.splice(0));
});
beforeAll(() => {
  if (!existsSync(VIGIL)) throw new Error(`${VIGIL} is missing: run npm run build first`);
});

type Mode = 'pass' | 'down' | 'html' | 'endless' | 'slow';

/** A proxy to the master whose behaviour the test sets; it records what went through it. */
async function proxy(target: string) {
  const state = {
    mode: 'pass' as Mode,
    slowMs: 800,
    /** reports of this partition are answered 500 (the master never sees them) */
    fail500For: undefined as string | undefined,
    heartbeats: [] as number[],
    /** reportId → partition, of every report the agent posted */
    reportsSeen: new Map<string, string>(),
    answers: { html: 0, endless: 0, down: 0, slow: 0, fail500: 0 },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '';
      if (url.endsWith('/heartbeat')) state.heartbeats.push(Date.now());
      const report = /^\/v1\/partitions\/([^/]+)\/reports$/.exec(url);
      if (report) {
        try {
          state.reportsSeen.set((JSON.parse(body.toString()) as { reportId: string }).reportId, decodeURIComponent(report[1]!));
        } catch {
          // not JSON: the master will say so
        }
      }
      const mode = state.mode;
      if (mode === 'down') {
        state.answers.down++;
        req.socket.destroy();
        return;
      }
      if (mode === 'html') {
        state.answers.html++;
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body><h1>Welcome!</h1>Please accept the terms to use the network.</body></html>');
        return;
      }
      if (mode === 'endless') {
        state.answers.endless++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"status": "accepted", "reportId": "'); // ...and never more
        return;
      }
      if (report && state.fail500For === decodeURIComponent(report[1]!)) {
        state.answers.fail500++;
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"internal","message":"Internal Server Error"}');
        return;
      }
      const forward = request(`${target}${url}`, { method: req.method, headers: req.headers }, (up) => {
        const parts: Buffer[] = [];
        up.on('data', (c: Buffer) => parts.push(c));
        up.on('end', () => {
          const send = () => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(Buffer.concat(parts));
          };
          if (mode === 'slow') {
            state.answers.slow++;
            setTimeout(send, state.slowMs);
          } else send();
        });
      });
      forward.on('error', () => req.socket.destroy());
      forward.end(body);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

it('outage, captive portal, endless body, slow master, 500 for one partition: nothing lost, nobody blocked, heartbeats throughout', async () => {
  const dir = tempDir();
  dirs.push(dir);
  const root = join(dir, 'root');
  const master = await startMaster({ dataDir: join(dir, 'master') });
  procs.push(master);
  const ids = ['px-a', 'px-b', 'px-c'];
  const { tokenFile } = await seedFleet(master.url, { dir, computerId: 'c-px', treeId: 'px', partitions: ids });
  const pdirs = ids.map((id) => makePartition(root, id));
  // reports keep coming: each partition is re-instantiated every few seconds
  for (const d of pdirs) writeFileSync(join(d, 'periodicity'), '12');
  // px-b: a file of etc/promise that is not executable (named in its reports);
  // px-c: a legacy promise writing to stdout and stderr in turn
  const notExec = join(pdirs[1]!, 'etc', 'promise', 'forgot-chmod');
  writeFileSync(notExec, '#!/bin/sh\necho never\n');
  chmodSync(notExec, 0o644);
  const mixed = join(pdirs[2]!, 'etc', 'promise', 'mixed');
  writeFileSync(mixed, '#!/bin/sh\necho o1; sleep 0.05; echo e2 >&2; sleep 0.05; echo o3; sleep 0.05; echo e4 >&2\n');
  chmodSync(mixed, 0o755);

  const px = await proxy(master.url);
  const agent = spawnVigil([
    'agent',
    '--master',
    px.url,
    '--computer',
    'c-px',
    '--token-file',
    tokenFile,
    '--instance-root',
    root,
    '--interval',
    '1',
    '--http-timeout',
    '2',
    '--parked-retry',
    '3',
    '--json',
  ]);
  procs.push(agent);
  type Part = { partitionId: string; colour: string; lastReport: { error: string | null } | null };
  const parts = async () => (await api<{ partitions: Part[] }>(master.url, 'GET', '/v1/partitions?instanceTreeId=px')).body.partitions;
  await waitFor('three green partitions', async () => (await parts()).filter((p) => p.colour === 'green').length === 3);
  const t0 = Date.now();
  const count = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).length : 0);
  const spooled = (d: string) => count(join(d, '.vigil', 'agent', 'spool'));
  const parkedCount = (d: string) => count(join(d, '.vigil', 'agent', 'spool', 'parked'));

  // 1. outage: connections cut; the agent spools
  px.state.mode = 'down';
  await waitFor('reports spooled in the outage', () => pdirs.every((d) => spooled(d) >= 1), 40_000);
  // 2. a captive portal answers 200 text/html to everything: not a delivery, not "no partitions"
  px.state.mode = 'html';
  const before = pdirs.map(instantiationCount);
  await waitFor('captive portal answered replays and heartbeats', () => px.state.answers.html >= 8, 40_000);
  await waitFor('partitions still processed behind the portal', () => pdirs.every((d, i) => instantiationCount(d) > before[i]!), 40_000);
  for (const d of pdirs) {
    expect(JSON.parse(readFileSync(join(d, '.vigil', 'agent', 'state.json'), 'utf8')).assigned).toBe(true);
    expect(spooled(d)).toBeGreaterThanOrEqual(1);
  }
  // 3. a 200 whose body never ends
  px.state.mode = 'endless';
  await waitFor('endless answers given', () => px.state.answers.endless >= 4, 40_000);
  for (const d of pdirs) expect(spooled(d)).toBeGreaterThanOrEqual(1);
  // 4. the master is back, but every report of px-a is answered 500 (px-a sorts first: its
  // stuck head must not hold the others): px-b and px-c drain their spools, px-a's head is
  // parked after 5 refusals and listed by --status
  const seenBefore500 = new Set(px.state.reportsSeen.keys());
  px.state.fail500For = 'px-a';
  px.state.mode = 'pass';
  await waitFor('px-b and px-c drained while px-a is refused', () => spooled(pdirs[1]!) === 0 && spooled(pdirs[2]!) === 0, 40_000);
  await waitFor('an item of px-a parked', () => parkedCount(pdirs[0]!) > 0, 60_000);
  const status = spawnVigil(['agent', '--status', '--instance-root', root, '--json']);
  expect(await status.exited).toBe(0);
  const st = JSON.parse(status.output()) as { partitions: { partitionId: string; parked: { attempts: number; lastError: string }[] }[] };
  const a = st.partitions.find((p) => p.partitionId === 'px-a')!;
  expect(a.parked.length).toBeGreaterThanOrEqual(1);
  expect(a.parked[0]).toMatchObject({ attempts: 5, lastError: expect.stringMatching(/500/) });
  // and px-b, px-c go on delivering new reports while px-a is refused
  await waitFor(
    'px-b and px-c deliver new reports during the 500s',
    async () => {
      const stored = await Promise.all(
        ['px-b', 'px-c'].map(async (id) => (await api<{ reports: { reportId: string }[] }>(master.url, 'GET', `/v1/partitions/${id}/promises`)).body.reports),
      );
      return stored.every((rs) => rs.some((r) => !seenBefore500.has(r.reportId)));
    },
    40_000,
  );
  // 5. the 500s stop, but the master is slow (every answer 0.8 s late): px-a's queue and its
  // parked items go through, heartbeats keep coming
  px.state.fail500For = undefined;
  px.state.mode = 'slow';
  await waitFor('px-a drained through the slow master, parked items delivered', () => pdirs.every((d) => spooled(d) === 0 && parkedCount(d) === 0), 60_000);
  px.state.mode = 'pass';
  await waitFor('green again', async () => (await parts()).every((p) => p.colour === 'green'), 40_000);
  const elapsedS = Math.round((Date.now() - t0) / 1000);
  // The agent stops (gracefully: its cycle ends) before anything is counted: it keeps
  // re-instantiating, and a report the proxy has seen is logged only once its answer is in.
  agent.child.kill('SIGTERM');
  expect(await agent.exited).toBe(0);

  // nothing lost: every report the agent made (each was posted at least once) is stored once
  const produced = [...px.state.reportsSeen.entries()];
  let storedCount = 0;
  for (const id of ids) {
    const stored = (await api<{ reports: { reportId: string }[] }>(master.url, 'GET', `/v1/partitions/${id}/promises`)).body.reports.map(
      (r) => r.reportId,
    );
    const mine = produced.filter(([, p]) => p === id).map(([r]) => r);
    expect(mine.length).toBeLessThan(50); // the master lists a partition's last 50 reports
    expect(stored.filter((r) => mine.includes(r)).sort()).toEqual([...mine].sort());
    storedCount += mine.length;
  }
  // the agent's own count of reports it made matches
  const lines = agent
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event?: string });
  const made = lines.filter((l) => l.event === 'instantiated' || l.event === 'state-change').length;
  expect(made).toBe(produced.length);
  // heartbeats all along (the agent's bound here is its 1 s interval; plus a 2 s timeout)
  const beats = px.state.heartbeats.filter((t) => t >= t0);
  const gaps = beats.slice(1).map((t, i) => t - beats[i]!);
  const maxGap = Math.max(...gaps);
  expect(maxGap).toBeLessThan(10_000);
  // engine items end to end: the warning for the non-executable file, legacy output order
  const b = (await parts()).find((p) => p.partitionId === 'px-b')!;
  expect(b.lastReport?.error).toContain(`Bad promise file at '${notExec}': not executable`);
  const cp = await api<{ promises: { title: string; latest: { message: string } }[] }>(master.url, 'GET', '/v1/partitions/px-c/promises');
  expect(cp.body.promises.find((p) => p.title === 'mixed')?.latest.message).toBe('o1\ne2\no3\ne4');
  process.stdout.write(
    `[agent-proxy] ${elapsedS} s through outage, captive portal (${px.state.answers.html} HTML answers), endless bodies ` +
      `(${px.state.answers.endless}), 500s for px-a (${px.state.answers.fail500}), slow answers (${px.state.answers.slow}): ` +
      `reports produced ${produced.length}, stored at the master ${storedCount}; ${beats.length} heartbeats, max gap ${(maxGap / 1000).toFixed(1)} s\n`,
  );
}, 300_000);
