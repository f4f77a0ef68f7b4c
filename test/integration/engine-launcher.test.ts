// The launcher with real runner processes and real legacy executables.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineUsageError, runPartitionPromises } from '../../agent/engine/index.ts';
import { cleanupTempDirs, tempPartition, writeLegacy, writePlugin, writeStock } from '../helpers/engine.ts';

afterAll(cleanupTempDirs);

const okPlugin = (msg: string) => `import { GenericPromise } from 'vigil/promise';
export default class P extends GenericPromise {
  sense() { this.logger.info(${JSON.stringify(msg)} + ' ' + this.getConfig('partition-id')); }
}
`;
const failPlugin = (extra = '') => `import { GenericPromise, AnomalyResult } from 'vigil/promise';
export default class P extends GenericPromise {
  sense() { this.logger.error('down'); }
  anomaly() { return this._anomaly({ resultCount: 1, failureAmount: 1 }); }
  ${extra}
}
`;

describe('runPartitionPromises', () => {
  it('runs custom, stock and legacy promises and writes results atomically', async () => {
    const part = tempPartition();
    writePlugin(part, 'custom.mjs', okPlugin('custom ok'));
    writePlugin(part, 'common.js', okPlugin('cjs-named but ESM'));
    writeStock(part, 'present', 'check-file-state', { filename: join(part, 'etc'), state: 'absent' });
    writeLegacy(part, 'legacy-ok', 'echo all good; echo on stderr >&2');
    writeLegacy(part, 'nagios-crit', 'echo "CRITICAL - disk"; exit 2');
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test', config: { partitionId: 'part-7' } });
    const by = Object.fromEntries(res.results.map((r) => [r.title, r]));
    expect(Object.keys(by).sort()).toEqual(['common', 'custom', 'legacy-ok', 'nagios-crit', 'present']);
    expect(by['custom']).toMatchObject({ name: 'custom.mjs', kind: 'test', failed: false, legacy: false, message: 'custom ok part-7' });
    expect(by['present']!.failed).toBe(true);
    expect(by['present']!.message).toMatch(/not absent/);
    expect(by['legacy-ok']).toMatchObject({ failed: false, legacy: true });
    expect(by['legacy-ok']!.message).toMatch(/all good\s+on stderr/);
    expect(by['nagios-crit']).toMatchObject({ failed: true, message: 'CRITICAL - disk' });
    expect(res.ok).toBe(false);
    expect(res.bang.due).toBe(false); // test mode never bangs
    const resultDir = join(part, '.vigil', 'promise', 'result');
    expect(readdirSync(resultDir).sort()).toEqual(
      ['common', 'custom', 'legacy-ok', 'nagios-crit', 'present'].map((t) => `${t}.status.json`),
    );
    const saved = JSON.parse(readFileSync(join(resultDir, 'custom.status.json'), 'utf8'));
    expect(saved).toMatchObject({ title: 'custom', name: 'custom.mjs', result: { type: 'Test Result', failed: false } });
    // one status file per promise holds the result and the periodicity cache
    expect(saved.cache).toMatchObject({ periodicity: 2, isTested: true, isAnomalyDetected: true, file: join(part, 'etc', 'plugin', 'custom.mjs') });
    const legacy = JSON.parse(readFileSync(join(resultDir, 'legacy-ok.status.json'), 'utf8'));
    expect(legacy).toMatchObject({ legacy: true, result: { failed: false }, cache: { periodicity: 2 } });
    expect(legacy.cache.nextRunAfter - legacy.cache.timestamp).toBe(120_000);
    expect(readdirSync(resultDir).some((n) => n.endsWith('.tmp'))).toBe(false);
    for (const r of res.results) expect(Number.isNaN(Date.parse(r.date))).toBe(false);
  });

  it('bad plugins fail with a message saying exactly what is wrong; the others still run', async () => {
    const part = tempPartition();
    writePlugin(part, 'bad-json.json', '{"plugin": ');
    writePlugin(part, 'unknown.json', JSON.stringify({ plugin: 'check-nothing', config: {} }));
    writePlugin(part, 'typo.json', JSON.stringify({ plugin: 'check-file-state', confg: { filename: 'x', state: 'absent' } }));
    writePlugin(part, 'no-class.mjs', 'export default 42;\n');
    writePlugin(part, 'plain-class.mjs', 'export default class NotAPromise { sense() {} }\n');
    writePlugin(part, 'syntax.mjs', 'export default class {{{\n');
    writePlugin(part, 'ctor-throws.mjs', `import { GenericPromise } from 'vigil/promise';
export default class P extends GenericPromise { constructor(c) { super(c); this.setPeriodicity(-1); } sense() {} }
`);
    writePlugin(part, 'fine.mjs', okPlugin('fine'));
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    const msg = Object.fromEntries(res.results.map((r) => [r.title, r.failed ? r.message : 'KEPT']));
    expect(msg['bad-json']).toMatch(/bad-json\.json: invalid JSON/);
    expect(msg['unknown']).toMatch(/unknown plugin 'check-nothing' \(known: check-url-available/);
    expect(msg['typo']).toMatch(/typo\.json: unknown key\(s\) "confg" \(expected "plugin", "config", "bang-on-failure"\)/);
    expect(msg['no-class']).toMatch(/default export must be a class extending GenericPromise.*found a number/);
    expect(msg['plain-class']).toMatch(/'NotAPromise' that does not extend GenericPromise/);
    expect(msg['syntax']).toMatch(/SyntaxError|Unexpected/);
    expect(msg['ctor-throws']).toMatch(/periodicity/);
    expect(msg['fine']).toBe('KEPT');
  });

  it('periodicity: a promise not due is skipped, reusing its last result only if it failed; force runs it', async () => {
    const part = tempPartition();
    writePlugin(part, 'ok.mjs', okPlugin('ok'));
    writePlugin(part, 'bad.mjs', failPlugin());
    writeLegacy(part, 'leg', 'echo legacy; exit 1');
    const first = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    expect(first.results.every((r) => !r.skipped)).toBe(true);
    const second = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    const by = Object.fromEntries(second.results.map((r) => [r.title, r]));
    expect(by['ok']).toMatchObject({ skipped: true, failed: false });
    expect(by['bad']).toMatchObject({ skipped: true, failed: true, message: 'down' });
    expect(by['leg']).toMatchObject({ skipped: true, failed: true, message: 'legacy' });
    const forced = await runPartitionPromises({ partitionDir: part, mode: 'test', force: true });
    expect(forced.results.every((r) => !r.skipped)).toBe(true);
    // a changed promise file voids its cache
    const later = new Date(Date.now() + 5000);
    utimesSync(join(part, 'etc', 'plugin', 'ok.mjs'), later, later);
    const third = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    expect(third.results.find((r) => r.title === 'ok')!.skipped).toBeUndefined();
    expect(third.results.find((r) => r.title === 'bad')!.skipped).toBe(true);
  });

  it('testless promise: skipped in test mode, run in anomaly mode', async () => {
    const part = tempPartition();
    writePlugin(part, 'tl.mjs', `import { GenericPromise } from 'vigil/promise';
export default class P extends GenericPromise { constructor(c) { super(c); this.setTestLess(); } sense() { this.logger.error('x'); } }
`);
    const t = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    expect(t.results[0]).toMatchObject({ skipped: true, failed: false });
    expect(t.results[0]!.message).toMatch(/test disabled/);
    // no result saved, only the cache saying the test is disabled
    const statusFile = join(part, '.vigil', 'promise', 'result', 'tl.status.json');
    const st = JSON.parse(readFileSync(statusFile, 'utf8'));
    expect(st.result).toBeUndefined();
    expect(st.cache).toMatchObject({ isTested: false, isAnomalyDetected: true });
    const a = await runPartitionPromises({ partitionDir: part, mode: 'anomaly', force: true });
    expect(a.results[0]).toMatchObject({ kind: 'anomaly', failed: false });
    expect(a.results[0]!.skipped).toBeUndefined();
    // a later test run keeps the anomaly result next to the cache
    await runPartitionPromises({ partitionDir: part, mode: 'test', force: true });
    expect(JSON.parse(readFileSync(statusFile, 'utf8'))).toMatchObject({
      result: { type: 'Anomaly Result', failed: false },
      cache: { isTested: false },
    });
  });

  it('anomaly mode: at most one bang, first by title; bang-on-failure false disables it; legacy never bangs', async () => {
    const part = tempPartition();
    writePlugin(part, 'zeta.mjs', failPlugin());
    writePlugin(part, 'alpha.mjs', failPlugin());
    writeStock(part, 'aaa-quiet', 'check-file-state', { filename: '/nonexistent/x', state: 'not-empty', 'bang-on-failure': false });
    writeLegacy(part, 'aaa-legacy', 'exit 1');
    const res = await runPartitionPromises({ partitionDir: part, mode: 'anomaly' });
    expect(res.results.find((r) => r.title === 'aaa-quiet')!.failed).toBe(true);
    expect(res.bang).toEqual({ due: true, promise: 'alpha', message: 'Promise alpha is failing: down' });
    const dry = await runPartitionPromises({ partitionDir: part, mode: 'anomaly', force: true, dryRun: true });
    expect(dry.bang.due).toBe(false);
  });

  it('legacy Nagios-style exit codes 1-3 fail with their output (test: this run; anomaly: 3 of 3) and never bang', async () => {
    const part = tempPartition();
    writeLegacy(part, 'warn', 'echo "WARNING - load 5"; exit 1');
    writeLegacy(part, 'crit', 'echo "CRITICAL - down" >&2; exit 2');
    writeLegacy(part, 'unknown', 'echo "UNKNOWN - no data"; exit 3');
    const t = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    const msg = Object.fromEntries(t.results.map((r) => [r.title, [r.failed, r.message]]));
    expect(msg).toEqual({ warn: [true, 'WARNING - load 5'], crit: [true, 'CRITICAL - down'], unknown: [true, 'UNKNOWN - no data'] });
    // anomaly mode: tolerant (fails when the last 3 runs failed) and never a bang
    const a1 = await runPartitionPromises({ partitionDir: part, mode: 'anomaly', force: true });
    expect(a1.results.every((r) => r.failed)).toBe(false);
    await runPartitionPromises({ partitionDir: part, mode: 'anomaly', force: true });
    const a3 = await runPartitionPromises({ partitionDir: part, mode: 'anomaly', force: true });
    expect(a3.results.map((r) => [r.title, r.kind, r.failed, r.message])).toEqual([
      ['crit', 'anomaly', true, 'CRITICAL - down'],
      ['unknown', 'anomaly', true, 'UNKNOWN - no data'],
      ['warn', 'anomaly', true, 'WARNING - load 5'],
    ]);
    expect(a3.bang).toEqual({ due: false });
  });

  it('run-only takes titles (unknown ones are a usage error); dry-run changes nothing', async () => {
    const part = tempPartition();
    writePlugin(part, 'one.mjs', okPlugin('1'));
    writePlugin(part, 'two.mjs', okPlugin('2'));
    writeLegacy(part, 'three.sh', 'echo 3');
    await expect(runPartitionPromises({ partitionDir: part, mode: 'test', runOnly: ['nope'] })).rejects.toThrow(EngineUsageError);
    expect(existsSync(join(part, '.vigil'))).toBe(false);
    const dry = await runPartitionPromises({ partitionDir: part, mode: 'test', dryRun: true });
    expect(dry.results).toHaveLength(3);
    expect(existsSync(join(part, '.vigil'))).toBe(false);
    const only = await runPartitionPromises({ partitionDir: part, mode: 'test', runOnly: ['two', 'three'] });
    expect(only.results.map((r) => r.name).sort()).toEqual(['three.sh', 'two.mjs']);
    expect(readdirSync(join(part, '.vigil', 'promise', 'result')).sort()).toEqual(['three.status.json', 'two.status.json']);
    // a full file name is tolerated as well as its title (qa)
    const byName = await runPartitionPromises({ partitionDir: part, mode: 'test', force: true, runOnly: ['one.mjs', 'three'] });
    expect(byName.results.map((r) => r.name).sort()).toEqual(['one.mjs', 'three.sh']);
    await expect(runPartitionPromises({ partitionDir: join(part, 'missing'), mode: 'test' })).rejects.toThrow(/not found/);
    // beyond setTimeout's range a timeout would fire at once: refused
    await expect(runPartitionPromises({ partitionDir: part, mode: 'test', timeoutSeconds: 86_401 })).rejects.toThrow(EngineUsageError);
  });

  it('state: a run giving no cache keeps the saved one; the old cache dir goes; legacy logs stay bounded', async () => {
    const part = tempPartition();
    const flag = join(part, 'hang');
    writePlugin(part, 'hangs.mjs', `import { existsSync } from 'node:fs';
import { GenericPromise } from 'vigil/promise';
export default class P extends GenericPromise {
  async sense() { if (existsSync(${JSON.stringify(flag)})) await new Promise(() => {}); this.logger.info('fine'); }
}
`);
    writeLegacy(part, 'leg', 'echo hi');
    const state = join(part, '.vigil', 'promise');
    mkdirSync(join(state, 'cache'), { recursive: true });
    writeFileSync(join(state, 'cache', 'hangs.json'), '{}');
    await runPartitionPromises({ partitionDir: part, mode: 'test' });
    expect(existsSync(join(state, 'cache'))).toBe(false);
    const statusOf = (t: string) => JSON.parse(readFileSync(join(state, 'result', `${t}.status.json`), 'utf8'));
    const cache = statusOf('hangs').cache;
    expect(cache.nextRunAfter).toBeGreaterThan(Date.now());
    writeFileSync(flag, '');
    const forced = await runPartitionPromises({ partitionDir: part, mode: 'test', force: true, timeoutSeconds: 3, runOnly: ['hangs'] });
    expect(forced.results[0]!.message).toMatch(/timed out/);
    expect(statusOf('hangs')).toMatchObject({ result: { failed: true }, cache });
    // not due yet: skipped, and the timeout keeps failing until it runs and passes
    const next = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    expect(next.results.find((r) => r.title === 'hangs')).toMatchObject({ skipped: true, failed: true, message: expect.stringMatching(/timed out/) });
    // a legacy log past 2 MiB is trimmed to its last whole lines before the new one
    const log = join(state, 'log', 'leg.log');
    const old = `${JSON.stringify({ date: new Date(0).toISOString(), level: 'INFO', run: '0-100-legacy', message: 'x'.repeat(200) })}\n`;
    writeFileSync(log, old.repeat(Math.ceil((2.1 * 1024 * 1024) / old.length)));
    await runPartitionPromises({ partitionDir: part, mode: 'test', force: true, runOnly: ['leg'] });
    expect(statSync(log).size).toBeLessThanOrEqual(1024 * 1024 + 1000);
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(lines.every((l) => JSON.parse(l).run)).toBe(true);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ level: 'INFO', message: 'hi' });
  });

  it('caps messages at their last 5000 characters', async () => {
    const part = tempPartition();
    writePlugin(part, 'chatty.mjs', `import { GenericPromise } from 'vigil/promise';
export default class P extends GenericPromise { sense() { this.logger.error('a'.repeat(7000) + 'THE END'); } }
`);
    writeLegacy(part, 'chatty-legacy', `head -c 9000 /dev/zero | tr '\\\\0' b; echo; echo LAST LINE; exit 1`);
    const res = await runPartitionPromises({ partitionDir: part, mode: 'test' });
    for (const r of res.results) {
      expect(r.failed).toBe(true);
      expect(r.message).toHaveLength(5000);
    }
    expect(res.results.find((r) => r.title === 'chatty')!.message.endsWith('THE END')).toBe(true);
    expect(res.results.find((r) => r.title === 'chatty-legacy')!.message.endsWith('LAST LINE')).toBe(true);
  });
});
