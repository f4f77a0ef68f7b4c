import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AnomalyResult,
  GenericPromise,
  MESSAGE_CAP,
  type PromiseConfig,
  TestResult,
  capMessage,
} from '../../agent/promise/index.ts';
import { LOG_KEEP_BYTES, trimLog } from '../../agent/promise/log.ts';
import { cleanupTempDirs, clock, promiseConfig, tempPartition } from '../helpers/engine.ts';

afterEach(cleanupTempDirs);

/** A promise whose sense() outcome is scripted per run. */
class Scripted extends GenericPromise {
  constructor(
    config: PromiseConfig,
    private readonly outcome: 'ok' | 'fail' | 'throw' | 'both',
  ) {
    super(config);
  }
  sense(): void {
    if (this.outcome === 'throw') throw new Error('sensor exploded');
    if (this.outcome === 'both') {
      this.logger.info('first line');
      this.logger.error('second line failed');
      return;
    }
    if (this.outcome === 'fail') this.logger.error('service down');
    else this.logger.info('service up');
  }
}

function runs(partition: string, c: ReturnType<typeof clock>, outcomes: ('ok' | 'fail')[]) {
  for (const o of outcomes) {
    const p = new Scripted(promiseConfig(partition, 'p.mjs', { now: c.now }), o);
    p.sense();
    c.advance(60_000);
  }
}

describe('GenericPromise accessors and config', () => {
  it('exposes name, title, file, partition, log file and config with defaults', () => {
    const part = tempPartition();
    const p = new Scripted(promiseConfig(part, 'my-check.mjs', { 'site-url': 'http://x', 'partition-id': 'p1' }), 'ok');
    expect(p.getName()).toBe('my-check.mjs');
    expect(p.getTitle()).toBe('my-check');
    expect(p.getPromiseFile()).toBe(join(part, 'etc', 'plugin', 'my-check.mjs'));
    expect(p.getPartitionFolder()).toBe(part);
    expect(p.getLogFile()).toBe(join(part, '.vigil', 'promise', 'log', 'my-check.log'));
    expect(p.getConfig('site-url')).toBe('http://x');
    expect(p.getConfig('partition-id')).toBe('p1');
    expect(p.getConfig('missing')).toBeUndefined();
    expect(p.getConfig('missing', 42)).toBe(42);
    // launcher keys are not part of the promise's config
    expect(p.getConfig('log-folder')).toBeUndefined();
    p.setConfig('k', 'v');
    expect(p.getConfig('k')).toBe('v');
  });

  it('rejects a config without name, path or partition folder', () => {
    expect(() => new Scripted({ path: '/x', 'partition-folder': '/p' }, 'ok')).toThrow(/'name'/);
    expect(() => new Scripted({ name: 'x.mjs', 'partition-folder': '/p' }, 'ok')).toThrow(/'path'/);
    expect(() => new Scripted({ name: 'x.mjs', path: '/x' }, 'ok')).toThrow(/'partition-folder'/);
  });

  it('periodicity: default 2 minutes, must be > 0', () => {
    const part = tempPartition();
    const p = new Scripted(promiseConfig(part, 'p.mjs'), 'ok');
    expect(p.getPeriodicity()).toBe(2);
    p.setPeriodicity(0.5);
    expect(p.getPeriodicity()).toBe(0.5);
    expect(() => p.setPeriodicity(0)).toThrow(/> 0/);
    expect(() => p.setPeriodicity(-1)).toThrow(/> 0/);
    expect(() => p.setPeriodicity(Number.NaN)).toThrow(/> 0/);
    expect(new Scripted(promiseConfig(part, 'p.mjs', { periodicity: 7 }), 'ok').getPeriodicity()).toBe(7);
  });
});

describe('the promise log', () => {
  it('sense() appends JSON lines {date, level, run, message} to the promise log', () => {
    const part = tempPartition();
    const c = clock();
    const p = new Scripted(promiseConfig(part, 'p.mjs', { now: c.now }), 'both');
    p.sense();
    const lines = readFileSync(p.getLogFile()!, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ date: '2025-01-01T00:00:00.000Z', level: 'INFO', message: 'first line' });
    expect(lines[1]).toMatchObject({ level: 'ERROR', message: 'second line failed' });
    expect(lines[0].run).toBe(lines[1].run);
  });

  it('getLastPromiseResultList: newest run first, grouped by run, resultCount', () => {
    const part = tempPartition();
    const c = clock();
    runs(part, c, ['ok', 'fail', 'ok', 'fail']);
    const p = new Scripted(promiseConfig(part, 'p.mjs', { now: c.now }), 'ok');
    expect(p.getLastPromiseResultList()).toHaveLength(1);
    const all = p.getLastPromiseResultList({ resultCount: 10 });
    expect(all.map((r) => r[0]!.status)).toEqual(['ERROR', 'INFO', 'ERROR', 'INFO']);
    expect(all[0]![0]!.message).toBe('service down');
    expect(all[0]![0]!.date).toEqual(new Date('2025-01-01T00:03:00Z'));
    expect(p.getLastPromiseResultList({ resultCount: 2 })).toHaveLength(2);
  });

  it('getLastPromiseResultList: latestMinute and onlyFailure', () => {
    const part = tempPartition();
    const c = clock();
    runs(part, c, ['fail', 'ok', 'fail', 'ok']); // at minutes 0,1,2,3; now = minute 4
    const p = new Scripted(promiseConfig(part, 'p.mjs', { now: c.now }), 'ok');
    // runs newer than 2.5 minutes: minutes 2 and 3
    expect(p.getLastPromiseResultList({ resultCount: 10, latestMinute: 2.5 })).toHaveLength(2);
    const failures = p.getLastPromiseResultList({ resultCount: 10, onlyFailure: true });
    expect(failures).toHaveLength(2);
    expect(failures.flat().every((e) => e.status === 'ERROR')).toBe(true);
    // only failures among the last 2 runs: one
    expect(p.getLastPromiseResultList({ resultCount: 2, onlyFailure: true })).toHaveLength(1);
  });

  it('no log folder: the log is kept in memory', () => {
    const part = tempPartition();
    const p = new Scripted({ name: 'm.mjs', path: '/m.mjs', 'partition-folder': part }, 'fail');
    expect(p.getLogFile()).toBeUndefined();
    p.sense();
    expect(p.getLastPromiseResultList()).toEqual([[expect.objectContaining({ status: 'ERROR', message: 'service down' })]]);
    expect(p._test().hasFailed()).toBe(true);
  });

  it('a log over its size limit is trimmed to whole lines', () => {
    const dir = tempPartition();
    const f = join(dir, 'big.log');
    const line = `${JSON.stringify({ date: new Date().toISOString(), level: 'INFO', run: '1-1', message: 'x'.repeat(200) })}\n`;
    writeFileSync(f, line.repeat(Math.ceil((3 * 1024 * 1024) / line.length)));
    expect(trimLog(f)).toBe(true);
    const text = readFileSync(f, 'utf8');
    expect(text.length).toBeLessThanOrEqual(LOG_KEEP_BYTES);
    expect(text.split('\n').filter(Boolean).every((l) => JSON.parse(l).run === '1-1')).toBe(true);
  });
});

describe('_test / _anomaly rules', () => {
  it('no log at all: passes with "No result found!"', () => {
    const part = tempPartition();
    const p = new Scripted(promiseConfig(part, 'p.mjs'), 'ok');
    const t = p._test();
    expect(t).toBeInstanceOf(TestResult);
    expect(t.hasFailed()).toBe(false);
    expect(t.message).toBe('No result found!');
    const a = p._anomaly();
    expect(a).toBeInstanceOf(AnomalyResult);
    expect(a.hasFailed()).toBe(false);
    expect(a.message).toBe('No result found!');
  });

  it('_test default 1/1: fails as soon as the latest run failed, with its message', () => {
    const part = tempPartition();
    const c = clock();
    runs(part, c, ['ok', 'fail']);
    const p = new Scripted(promiseConfig(part, 'p.mjs', { now: c.now }), 'ok');
    expect(p._test().hasFailed()).toBe(true);
    expect(p._test().message).toBe('service down');
    runs(part, c, ['ok']);
    expect(p._test().hasFailed()).toBe(false);
    expect(p._test().message).toBe('service up');
  });

  it('_anomaly default 3/3 tolerates glitches: fails only when the last 3 runs failed', () => {
    const part = tempPartition();
    const c = clock();
    const p = () => new Scripted(promiseConfig(part, 'p.mjs', { now: c.now }), 'ok');
    runs(part, c, ['fail', 'fail']);
    expect(p()._anomaly().hasFailed()).toBe(false);
    runs(part, c, ['fail']);
    expect(p()._anomaly().hasFailed()).toBe(true);
    runs(part, c, ['ok']);
    expect(p()._anomaly().hasFailed()).toBe(false); // latest OK
    runs(part, c, ['fail', 'ok', 'fail']);
    expect(p()._anomaly().hasFailed()).toBe(false); // 2 of the last 3
    expect(p()._anomaly({ resultCount: 3, failureAmount: 2 }).hasFailed()).toBe(true);
    expect(p()._test({ resultCount: 3, failureAmount: 3 }).hasFailed()).toBe(false);
  });

  it('latestMinute limits the runs considered', () => {
    const part = tempPartition();
    const c = clock();
    runs(part, c, ['fail', 'fail', 'fail']); // minutes 0..2, now 3
    const p = new Scripted(promiseConfig(part, 'p.mjs', { now: c.now }), 'ok');
    expect(p._anomaly().hasFailed()).toBe(true);
    expect(p._anomaly({ latestMinute: 2.5 }).hasFailed()).toBe(false); // only 2 runs in window
    c.advance(3600_000);
    expect(p._test({ latestMinute: 10 }).message).toBe('No result found!');
  });
});

describe('run()', () => {
  it('test mode: sense then test; anomaly mode: sense then anomaly', async () => {
    const part = tempPartition();
    const failing = await new Scripted(promiseConfig(part, 'a.mjs'), 'fail').run(false);
    expect(failing.executed).toBe(true);
    expect(failing.result).toBeInstanceOf(TestResult);
    expect(failing.result!.hasFailed()).toBe(true);
    expect(failing.bang).toBe(false);
    // anomaly after one failure: tolerated (3/3)
    const a = await new Scripted(promiseConfig(part, 'b.mjs'), 'fail').run(true);
    expect(a.result).toBeInstanceOf(AnomalyResult);
    expect(a.result!.hasFailed()).toBe(false);
    await new Scripted(promiseConfig(part, 'b.mjs'), 'fail').run(true);
    const third = await new Scripted(promiseConfig(part, 'b.mjs'), 'fail').run(true);
    expect(third.result!.hasFailed()).toBe(true);
    expect(third.bang).toBe(true);
  });

  it('a throwing sense() is logged as an error and fails the test with its message', async () => {
    const part = tempPartition();
    const p = new Scripted(promiseConfig(part, 'p.mjs'), 'throw');
    const out = await p.run(false);
    expect(out.result!.hasFailed()).toBe(true);
    expect(out.result!.message).toBe('sensor exploded');
  });

  it('test() returning nothing, the wrong type or throwing fails clearly', async () => {
    const part = tempPartition();
    class NoReturn extends Scripted {
      override test(): TestResult {
        return undefined as unknown as TestResult;
      }
    }
    class WrongType extends Scripted {
      override test(): TestResult {
        return { failed: false } as unknown as TestResult;
      }
    }
    class Throws extends Scripted {
      override anomaly(): AnomalyResult {
        throw new Error('anomaly blew up');
      }
    }
    const a = await new NoReturn(promiseConfig(part, 'a.mjs'), 'ok').run(false);
    expect(a.result!.hasFailed()).toBe(true);
    expect(a.result!.message).toMatch(/test\(\) returned nothing/);
    const b = await new WrongType(promiseConfig(part, 'b.mjs'), 'ok').run(false);
    expect(b.result!.hasFailed()).toBe(true);
    expect(b.result!.message).toMatch(/not a TestResult or AnomalyResult/);
    const c = await new Throws(promiseConfig(part, 'c.mjs'), 'ok').run(true);
    expect(c.result).toBeInstanceOf(AnomalyResult);
    expect(c.result!.hasFailed()).toBe(true);
    expect(c.result!.message).toBe('anomaly blew up');
    expect(c.bang).toBe(false); // an error is not an anomaly verdict
  });

  it('a missing sense() implementation fails clearly', async () => {
    const part = tempPartition();
    // what a plain-JS plugin without sense() looks like at run time
    const Base = GenericPromise as unknown as new (c: PromiseConfig) => GenericPromise;
    const out = await new Base(promiseConfig(part, 'n.mjs')).run(false);
    expect(out.result!.hasFailed()).toBe(true);
    expect(out.result!.message).toMatch(/sense\(\) is not implemented/);
  });

  it('testless / anomalyless skip their mode; both disabled is an error', async () => {
    const part = tempPartition();
    const testless = new Scripted(promiseConfig(part, 't.mjs'), 'fail');
    testless.setTestLess();
    expect(testless.isTested()).toBe(false);
    expect(await testless.run(false)).toEqual({ executed: false, bang: false });
    expect((await testless.run(true)).executed).toBe(true);
    const anomalyless = new Scripted(promiseConfig(part, 'a.mjs'), 'fail');
    anomalyless.setAnomalyLess();
    expect(await anomalyless.run(true)).toEqual({ executed: false, bang: false });
    const both = new Scripted(promiseConfig(part, 'b.mjs'), 'ok');
    both.setTestLess();
    both.setAnomalyLess();
    const out = await both.run(false);
    expect(out.result!.hasFailed()).toBe(true);
    expect(out.result!.message).toMatch(/not allowed to disable both/);
  });

  it('a failed TestResult from anomaly() never bangs; a failed AnomalyResult does', async () => {
    const part = tempPartition();
    class TestInAnomaly extends Scripted {
      override anomaly(): TestResult {
        return this._test();
      }
    }
    class Strict extends Scripted {
      override anomaly(): AnomalyResult {
        return this._anomaly({ resultCount: 1, failureAmount: 1 });
      }
    }
    const a = await new TestInAnomaly(promiseConfig(part, 'a.mjs'), 'fail').run(true);
    expect(a.result!.hasFailed()).toBe(true);
    expect(a.bang).toBe(false);
    const b = await new Strict(promiseConfig(part, 'b.mjs'), 'fail').run(true);
    expect(b.bang).toBe(true);
  });
});

describe('results and the message cap', () => {
  it('keeps the last 5000 characters of a message', () => {
    const long = `${'a'.repeat(3000)}${'b'.repeat(3000)}END`;
    const r = new TestResult({ problem: true, message: long });
    expect(MESSAGE_CAP).toBe(5000);
    expect(r.message).toBe(long.slice(-5000));
    expect(r.message.length).toBe(5000);
    expect(r.message.endsWith('bEND')).toBe(true);
    expect(capMessage('short')).toBe('short');
    expect(capMessage('x'.repeat(5000))).toBe('x'.repeat(5000));
  });

  it('results carry type, failure, message, date', () => {
    const d = new Date('2025-02-03T04:05:06Z');
    expect(new AnomalyResult({ problem: true, message: 'm', date: d }).toJSON()).toEqual({
      type: 'Anomaly Result',
      failed: true,
      message: 'm',
      date: '2025-02-03T04:05:06.000Z',
    });
    expect(new TestResult().hasFailed()).toBe(false);
    expect(new TestResult().message).toBe('');
  });
});
