// The agent's answer to a bang refused by the daily quota (429): no bang attempt before the
// next UTC day (no Retry-After) or before a successful instantiation, whichever comes first;
// and what --verbose adds to the log. Scripted master (fake MasterClient), injected clock.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallResult, MasterClient } from '../../../agent/client.ts';
import type { HeartbeatResponse, Reprocess } from '../../../protocol/index.ts';
import { createLogger } from '../../../agent/log.ts';
import { Agent, DEFAULT_SETTINGS, type RunPromises } from '../../../agent/loop.ts';
import { readPartitionState } from '../../../agent/state.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function scripted() {
  const m = {
    now: new Date('2024-03-10T22:00:00.000Z'),
    flags: [] as Reprocess[],
    /** 429 answers while set; retryAfter undefined → no Retry-After header */
    quota: true,
    retryAfter: undefined as number | undefined,
    bangAttempts: [] as string[],
    reports: 0,
  };
  const client: MasterClient = {
    masterUrl: 'http://fake',
    async heartbeat(): Promise<CallResult<HeartbeatResponse>> {
      return {
        ok: true,
        status: 200,
        body: {
          serverTime: m.now.toISOString(),
          reprocess: m.flags,
          partitions: [{ partitionId: 'p1', instanceTreeId: 't', softwareReleaseId: 's', periodicitySeconds: null }],
        },
      };
    },
    async report() {
      m.reports++;
      return { ok: true, status: 202, body: {} };
    },
    async bang(_partitionId, body) {
      m.bangAttempts.push(m.now.toISOString());
      if (m.quota) {
        return {
          ok: false,
          status: 429,
          retryable: true,
          message: '429 bang quota reached',
          ...(m.retryAfter !== undefined ? { retryAfterSeconds: m.retryAfter } : {}),
        };
      }
      return { ok: true, status: 202, body: { bangId: body.bangId, fannedOutTo: 1 } };
    },
  };
  // instantiations pass (test mode); the anomaly check keeps failing and asks for a bang
  const runPromises: RunPromises = async (opts) => ({
    ok: opts.mode === 'test',
    startedAt: m.now.toISOString(),
    durationMs: 1,
    results: [
      {
        name: 'health.mjs',
        title: 'health',
        kind: opts.mode,
        failed: opts.mode !== 'test',
        message: opts.mode === 'test' ? 'ok' : 'service is down',
        date: m.now.toISOString(),
        executionTimeMs: 1,
        legacy: false,
      },
    ],
    bang: opts.mode === 'test' ? { due: false } : { due: true, promise: 'health', message: 'health: service is down' },
  });
  return { m, client, runPromises };
}

function agentFor(verbose: boolean) {
  const root = mkdtempSync(join(tmpdir(), 'vigil-quota-'));
  dirs.push(root);
  mkdirSync(join(root, 'p1', 'etc'), { recursive: true });
  const { m, client, runPromises } = scripted();
  const lines: string[] = [];
  const log = createLogger({ verbose, write: (l) => lines.push(l), now: () => m.now });
  const agent = new Agent(
    { ...DEFAULT_SETTINGS, masterUrl: 'http://fake', computerId: 'c1', instanceRoot: root },
    { client, log, runPromises, now: () => m.now },
  );
  const advance = (ms: number) => {
    m.now = new Date(m.now.getTime() + ms);
  };
  return { m, agent, lines, root, advance };
}

describe('bang quota (429)', () => {
  it('no bang before the next UTC day, then again; a successful instantiation lifts the wait at once', async () => {
    const { m, agent, root, advance } = agentFor(false);
    await agent.cycle(); // new partition: instantiated (ok)
    expect(m.bangAttempts).toHaveLength(0);
    advance(60_000);
    const refused = await agent.cycle(); // anomaly → bang → 429 without Retry-After
    expect(m.bangAttempts).toHaveLength(1);
    expect(refused.banged).toBe(false);
    expect(readPartitionState(join(root, 'p1')).bangWaitUntil).toBe('2024-03-11T00:00:00.000Z');
    // the anomaly persists: cycles go on at their pace, without a bang attempt, until midnight UTC
    for (let i = 0; i < 5; i++) {
      advance(60_000);
      await agent.cycle();
    }
    expect(m.bangAttempts).toHaveLength(1);
    m.now = new Date('2024-03-11T00:00:01.000Z');
    m.retryAfter = 7200; // still over quota; this time the master says for how long
    await agent.cycle();
    expect(m.bangAttempts).toHaveLength(2);
    expect(readPartitionState(join(root, 'p1')).bangWaitUntil).toBe('2024-03-11T02:00:01.000Z');
    advance(60_000);
    await agent.cycle();
    expect(m.bangAttempts).toHaveLength(2);
    // the master asks for a re-instantiation (another partition's bang): success lifts the wait
    m.quota = false;
    m.flags = [{ partitionId: 'p1', requestedAt: new Date(m.now.getTime() - 1000).toISOString(), reason: 'bang' }];
    advance(60_000);
    const inst = await agent.cycle();
    expect(inst.partitions[0]).toMatchObject({ action: 'instantiated', ok: true });
    expect(readPartitionState(join(root, 'p1')).bangWaitUntil).toBeUndefined();
    advance(60_000);
    const banged = await agent.cycle(); // the anomaly bangs again, and is accepted
    expect(m.bangAttempts).toHaveLength(3);
    expect(banged.banged).toBe(true);
    // then the reference throttle: no new bang before a successful instantiation after it
    advance(60_000);
    await agent.cycle();
    expect(m.bangAttempts).toHaveLength(3);
  });
});

describe('--verbose', () => {
  it('adds debug detail (why no bang, each promise result); without it there is none', async () => {
    for (const verbose of [false, true]) {
      const { agent, lines, advance } = agentFor(verbose);
      await agent.cycle();
      advance(60_000);
      await agent.cycle(); // 429
      advance(60_000);
      await agent.cycle(); // blocked by the quota wait
      const debug = lines.filter((l) => / debug /.test(l));
      if (!verbose) {
        expect(debug).toEqual([]);
      } else {
        expect(debug.some((l) => /p1: anomaly \(health: service is down\); no bang: bang quota reached/.test(l))).toBe(true);
        expect(debug.some((l) => /p1: promise health \(anomaly\) FAILED: service is down/.test(l))).toBe(true);
        expect(debug.some((l) => /p1: promise health \(test\) ok/.test(l))).toBe(true);
        expect(debug.some((l) => /heartbeat ok: 1 partitions assigned, 0 reprocess requests/.test(l))).toBe(true);
      }
      // the info lines (one per cycle and per action) are the same either way
      expect(lines.filter((l) => / info {2}cycle \d+: /.test(l))).toHaveLength(3);
    }
  });
});
