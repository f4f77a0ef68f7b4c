// Spool replay (agent/replay.ts) and the heartbeat keeper, through the agent's cycle against
// a scripted master: each partition's spool flows on its own, an item the master keeps
// refusing with a 5xx is parked (visible in --status) and offered again later, a proxy's
// 200 is not a delivery, and heartbeats keep coming while a slow master takes the replay.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { partitionSpool } from '../../../agent/bang.ts';
import type { CallResult, MasterClient } from '../../../agent/client.ts';
import type { HeartbeatResponse, ReportRequest } from '../../../protocol/index.ts';
import { createLogger } from '../../../agent/log.ts';
import { Agent, type AgentSettings, DEFAULT_SETTINGS, type RunPromises } from '../../../agent/loop.ts';
import { agentStatus, formatStatus } from '../../../agent/status.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Behaviour = 'ok' | 500 | 'html' | 'down';

/** A master whose answers per partition the test sets; it records what it stored. */
function scriptedMaster(partitions: string[]) {
  const state = {
    heartbeat: 'ok' as Behaviour,
    reports: new Map<string, Behaviour>(),
    delayMs: 0,
    stored: [] as { partitionId: string; reportId: string }[],
    heartbeats: [] as number[],
    refused: 0,
  };
  const fail = (b: Behaviour): CallResult<never> =>
    b === 500
      ? { ok: false, status: 500, retryable: true, message: 'POST: 500 internal error' }
      : b === 'html'
        ? { ok: false, status: 200, retryable: true, message: 'POST: 200 with an unexpected answer' }
        : { ok: false, retryable: true, message: 'POST: ECONNREFUSED' };
  const wait = () => new Promise((r) => setTimeout(r, state.delayMs));
  const client: MasterClient = {
    masterUrl: 'http://scripted',
    async heartbeat(): Promise<CallResult<HeartbeatResponse>> {
      state.heartbeats.push(Date.now());
      await wait();
      if (state.heartbeat !== 'ok') return fail(state.heartbeat);
      return {
        ok: true,
        status: 200,
        body: {
          serverTime: new Date().toISOString(),
          reprocess: [],
          partitions: partitions.map((p) => ({ partitionId: p, instanceTreeId: 't', softwareReleaseId: 's', periodicitySeconds: null })),
        },
      };
    },
    async report(partitionId: string, body: ReportRequest) {
      await wait();
      const b = state.reports.get(partitionId) ?? 'ok';
      if (b !== 'ok') {
        state.refused++;
        return fail(b);
      }
      state.stored.push({ partitionId, reportId: body.reportId });
      return { ok: true, status: 202, body: { reportId: body.reportId, status: 'accepted' } };
    },
    async bang(_p, body) {
      return { ok: true, status: 202, body: { bangId: body.bangId, fannedOutTo: 1 } };
    },
  };
  return { state, client };
}

/** While control.flap, each partition's promises change state at every run: every cycle makes a report. */
function flappingRun(control = { flap: true }): RunPromises {
  const runs = new Map<string, number>();
  return async (opts) => {
    const n = (runs.get(opts.partitionDir) ?? 0) + (control.flap ? 1 : 0);
    runs.set(opts.partitionDir, n);
    const failed = n % 2 === 0;
    return {
      ok: !failed,
      startedAt: new Date().toISOString(),
      durationMs: 1,
      results: [
        {
          name: 'p.json',
          title: 'p',
          kind: opts.mode,
          failed,
          message: failed ? 'down' : 'up',
          date: new Date().toISOString(),
          executionTimeMs: 1,
          legacy: false,
        },
      ],
      bang: { due: false },
    };
  };
}

function setup(partitions: string[], settings: Partial<AgentSettings> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'vigil-replay-'));
  dirs.push(root);
  for (const p of partitions) mkdirSync(join(root, p, 'etc'), { recursive: true });
  const lines: string[] = [];
  const master = scriptedMaster(partitions);
  const control = { flap: true };
  const agent = new Agent(
    { ...DEFAULT_SETTINGS, intervalMs: 200, masterUrl: 'http://scripted', computerId: 'c1', instanceRoot: root, ...settings },
    { client: master.client, log: createLogger({ write: (l) => lines.push(l), json: true }), runPromises: flappingRun(control) },
  );
  const produced = () => {
    const ids: string[] = [];
    for (const l of lines) {
      const j = JSON.parse(l) as { event?: string; report?: string };
      if (j.event === 'instantiated' || j.event === 'state-change') ids.push(j.report ?? '');
    }
    return ids.length;
  };
  const spooled = (p: string) => partitionSpool(join(root, p)).depth();
  const parked = (p: string) => partitionSpool(join(root, p)).parkedCount();
  return { root, lines, master, agent, produced, spooled, parked, control };
}

describe('spool replay', () => {
  it('a partition the master answers 500 blocks only itself; its item is parked after 5 refusals, listed by --status, and delivered once the master takes it', async () => {
    // "a-bad" sorts first: before the fix, its stuck head stopped every spool after it
    const { root, master, agent, spooled, parked } = setup(['a-bad', 'b-good', 'c-good'], { parkedRetryMs: 60_000 });
    master.state.heartbeat = 'ok';
    master.state.reports.set('a-bad', 'down');
    master.state.reports.set('b-good', 'down');
    master.state.reports.set('c-good', 'down');
    // an outage: every partition spools
    for (let i = 0; i < 3; i++) await agent.cycle();
    expect([spooled('a-bad'), spooled('b-good'), spooled('c-good')].every((n) => n >= 2)).toBe(true);
    // the master is back, but answers 500 to everything of a-bad
    master.state.reports.set('a-bad', 500);
    master.state.reports.delete('b-good');
    master.state.reports.delete('c-good');
    await agent.cycle();
    expect(spooled('b-good')).toBe(0);
    expect(spooled('c-good')).toBe(0);
    expect(spooled('a-bad')).toBeGreaterThan(0);
    // the head of a-bad is parked after 5 × 500; the cycles go on
    for (let i = 0; i < 6 && parked('a-bad') === 0; i++) await agent.cycle();
    expect(parked('a-bad')).toBeGreaterThanOrEqual(1);
    const status = agentStatus(root);
    const bad = status.find((p) => p.partitionId === 'a-bad')!;
    expect(bad.parked[0]).toMatchObject({ kind: 'report', attempts: 5, lastError: expect.stringMatching(/500/) });
    expect(formatStatus(root, status)).toMatch(/a-bad: .*; \d+ parked\n {2}parked report [\w-]+ \(queued .*5 × 5xx\): POST: 500 internal error/);
    // the master takes a-bad's reports again: the queue drains at once, the parked ones at
    // their next retry (here: the agent is given a short retry delay)
    master.state.reports.delete('a-bad');
    await agent.cycle();
    expect(spooled('a-bad')).toBe(0);
    expect(parked('a-bad')).toBeGreaterThanOrEqual(1);
    const later = new Agent(
      { ...agent.settings, parkedRetryMs: 0 },
      { client: master.client, log: createLogger({ write: () => {} }), runPromises: flappingRun() },
    );
    await later.cycle();
    expect(parked('a-bad')).toBe(0);
    expect(readdirSync(join(root, 'a-bad', '.vigil', 'agent', 'spool', 'parked'))).toEqual([]);
    // nothing lost: every report made was stored once
    const ids = master.state.stored.map((s) => s.reportId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a proxy answering 200 HTML keeps items in the spool; the real master then gets every one', async () => {
    const { master, agent, produced, spooled } = setup(['p1', 'p2']);
    master.state.reports.set('p1', 'html');
    master.state.reports.set('p2', 'html');
    for (let i = 0; i < 4; i++) await agent.cycle();
    expect(spooled('p1') + spooled('p2')).toBe(produced());
    expect(master.state.stored).toHaveLength(0);
    master.state.reports.clear();
    await agent.cycle();
    expect(spooled('p1') + spooled('p2')).toBe(0);
    expect(master.state.stored).toHaveLength(produced());
  });

  it('heartbeats keep coming while a slow master takes a long replay', async () => {
    // 18 reports spooled, a master that answers each request in 300 ms: the replay takes
    // 5.4 s (about 1 s of it per round); the heartbeat bound (the interval) is 300 ms
    const { master, agent, spooled, control } = setup(['p1', 'p2', 'p3'], { intervalMs: 300 });
    master.state.reports.set('p1', 'down');
    master.state.reports.set('p2', 'down');
    master.state.reports.set('p3', 'down');
    for (let i = 0; i < 6; i++) await agent.cycle();
    expect(spooled('p1') + spooled('p2') + spooled('p3')).toBe(18);
    control.flap = false;
    master.state.reports.clear();
    master.state.delayMs = 300;
    master.state.heartbeats.length = 0;
    agent.heartbeats.start();
    try {
      while (spooled('p1') + spooled('p2') + spooled('p3') > 0) await agent.cycle();
    } finally {
      agent.heartbeats.stop();
    }
    const beats = master.state.heartbeats;
    const gaps = beats.slice(1).map((t, i) => t - beats[i]!);
    // every gap within the bound plus one answer in flight and scheduling slack; without the
    // keeper a cycle (two replay rounds of about 1 s each) would go without one
    expect(Math.max(...gaps)).toBeLessThan(300 + 300 + 700);
    expect(agent.heartbeats.keepAlives).toBeGreaterThan(0);
    expect(master.state.stored).toHaveLength(18);
  }, 30_000);
});
