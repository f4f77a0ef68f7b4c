import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelayMs, nextAttemptAt } from '../../../agent/backoff.ts';
import { instantiationReason, LEAD_MARGIN_SECONDS, reinstantiationLeadSeconds, stateSignature } from '../../../agent/loop.ts';
import {
  bangBlockedReason,
  readLastBang,
  readPartitionState,
  writeLastBang,
  writePartitionState,
} from '../../../agent/state.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-state-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('backoff', () => {
  it('starts at 10 s, doubles, caps at 5 min', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((f) => backoffDelayMs(f))).toEqual([
      0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000,
    ]);
    expect(backoffDelayMs(3, { baseMs: 100, maxMs: 250 })).toBe(250);
    expect(nextAttemptAt(new Date('2024-01-01T00:00:00Z'), 2).toISOString()).toBe('2024-01-01T00:00:20.000Z');
  });
});

describe('partition state', () => {
  it('round-trips and survives a corrupt file', () => {
    const d = tmp();
    expect(readPartitionState(d)).toEqual({ failures: 0 });
    writePartitionState(d, { failures: 2, lastInstantiationAt: '2024-01-01T00:00:00.000Z', lastInstantiationOk: false });
    expect(readPartitionState(d)).toMatchObject({ failures: 2, lastInstantiationOk: false });
    writeLastBang(d, { bangId: 'b1', bangAt: '2024-01-01T00:00:00.000Z', source: 'watchdog' });
    expect(readLastBang(d)?.bangId).toBe('b1');
  });

  it('throttles bangs until a successful instantiation newer than the last bang', () => {
    const now = new Date('2024-01-01T12:00:00Z');
    const bang = { bangId: 'b', bangAt: '2024-01-01T11:00:00.000Z', source: 'promise' as const };
    expect(bangBlockedReason({ failures: 0 }, undefined, now)).toBeUndefined();
    // never instantiated successfully after (or before) the bang: blocked
    expect(bangBlockedReason({ failures: 0 }, bang, now)).toMatch(/already banged/);
    expect(bangBlockedReason({ failures: 0, lastSuccessAt: '2024-01-01T10:00:00.000Z' }, bang, now)).toMatch(/already banged/);
    expect(bangBlockedReason({ failures: 0, lastSuccessAt: '2024-01-01T11:30:00.000Z' }, bang, now)).toBeUndefined();
    // quota wait
    expect(bangBlockedReason({ failures: 0, bangWaitUntil: '2024-01-02T00:00:00.000Z' }, undefined, now)).toMatch(/quota/);
    expect(bangBlockedReason({ failures: 0, bangWaitUntil: '2024-01-01T00:00:00.000Z' }, undefined, now)).toBeUndefined();
  });
});

describe('instantiation decision', () => {
  const now = new Date('2024-01-01T12:00:00Z');
  const okState = { failures: 0, lastInstantiationAt: '2024-01-01T11:59:00.000Z', lastInstantiationOk: true };
  it('new, master flag (once per requestedAt), periodic, back-off', () => {
    expect(instantiationReason({ state: { failures: 0 }, now, periodSeconds: 86400 })).toBe('new partition');
    expect(instantiationReason({ state: okState, now, periodSeconds: 86400 })).toBeUndefined();
    expect(instantiationReason({ state: okState, now, periodSeconds: 30 })).toMatch(/periodic/);
    const flag = { partitionId: 'p', requestedAt: '2024-01-01T11:59:30.000Z', reason: 'bang' };
    expect(instantiationReason({ state: okState, flag, now, periodSeconds: 86400 })).toMatch(/master asked/);
    const served = { ...okState, reprocessServedUpTo: flag.requestedAt };
    expect(instantiationReason({ state: served, flag, now, periodSeconds: 86400 })).toBeUndefined();
    const failed = { failures: 2, lastInstantiationAt: '2024-01-01T11:59:50.000Z', lastInstantiationOk: false };
    expect(
      instantiationReason({ state: { ...failed, nextAttemptAt: '2024-01-01T12:00:10.000Z' }, now, periodSeconds: 86400 }),
    ).toBeUndefined();
    expect(
      instantiationReason({ state: { ...failed, nextAttemptAt: '2024-01-01T11:59:59.000Z' }, now, periodSeconds: 86400 }),
    ).toMatch(/retry after 2 failures/);
  });

  it('re-instantiates ahead of the master\'s freshness limit: one cycle + the instantiate timeout + a margin, at most half the period', () => {
    // a day, a 60 s cycle, a 600 s etc/instantiate timeout: 690 s before the limit
    const day = { periodSeconds: 86_400, intervalMs: 60_000, instantiateTimeoutMs: 600_000 };
    expect(reinstantiationLeadSeconds(day)).toBe(60 + 600 + LEAD_MARGIN_SECONDS);
    // an SR asking every 20 s with the same timeout: half the period, not "instantiate all the time"
    expect(reinstantiationLeadSeconds({ ...day, periodSeconds: 20, intervalMs: 2000 })).toBe(10);
    // an hour, a 10 s cycle and a 30 s timeout: the full lead fits
    expect(reinstantiationLeadSeconds({ periodSeconds: 3600, intervalMs: 10_000, instantiateTimeoutMs: 30_000 })).toBe(10 + 30 + LEAD_MARGIN_SECONDS);
    // counted from the start of the last instantiation (its report reached the master later)
    const started = { failures: 0, lastInstantiationOk: true, lastInstantiationStartedAt: '2024-01-01T11:59:49.000Z', lastInstantiationAt: '2024-01-01T11:59:59.000Z' };
    expect(instantiationReason({ state: started, now, periodSeconds: 20, leadSeconds: 10 })).toMatch(/periodic \(last instantiation 11 s ago; the master's limit is 20 s\)/);
    expect(instantiationReason({ state: { ...started, lastInstantiationStartedAt: '2024-01-01T11:59:51.000Z' }, now, periodSeconds: 20, leadSeconds: 10 })).toBeUndefined();
    // a day: due 690 s before the day is over, not after it
    const dayOld = { failures: 0, lastInstantiationOk: true, lastInstantiationAt: '2023-12-31T12:12:00.000Z', lastInstantiationStartedAt: '2023-12-31T12:11:00.000Z' };
    expect(instantiationReason({ state: dayOld, now, periodSeconds: 86_400, leadSeconds: reinstantiationLeadSeconds(day) })).toMatch(/periodic/);
    expect(instantiationReason({ state: dayOld, now, periodSeconds: 86_400 })).toBeUndefined();
  });

  it('signature changes only with the set of failed promises', () => {
    expect(stateSignature(true, [])).toBe('ok');
    const a = stateSignature(false, [
      { title: 'b', failed: true },
      { title: 'a', failed: true },
      { title: 'c', failed: false },
    ]);
    expect(a).toBe(stateSignature(false, [
      { title: 'a', failed: true },
      { title: 'b', failed: true },
    ]));
    expect(a).not.toBe(stateSignature(false, [{ title: 'a', failed: true }]));
  });
});

describe('report size', () => {
  it('shrinks messages (tail kept) and keeps failures first so the master never answers 413', async () => {
    const { fitReport } = await import('../../../agent/loop.ts');
    const promises = Array.from({ length: 1200 }, (_, i) => ({
      name: `p${i}`,
      title: `p${i}`,
      kind: 'test' as const,
      failed: i % 100 === 99,
      message: `${'x'.repeat(4990)}END${i}`,
      date: '2024-01-01T00:00:00.000Z',
      executionTimeMs: 1,
    }));
    const body = { reportId: 'r', kind: 'instantiation' as const, startedAt: '2024-01-01T00:00:00.000Z', durationMs: 1, ok: false, promises };
    const out = fitReport(body);
    expect(Buffer.byteLength(JSON.stringify(out))).toBeLessThanOrEqual(240 * 1024);
    expect(out.promises).toHaveLength(1000);
    expect(out.promises.filter((p) => p.failed)).toHaveLength(12);
    expect(out.promises[0]!.message).toMatch(/END99$/);
    const small = { ...body, promises: promises.slice(0, 3) };
    expect(fitReport(small)).toEqual(small);
  });
});
