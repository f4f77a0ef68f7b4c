import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress, formatTable } from '../../agent/cli/promise.ts';
import { discoverPromises } from '../../agent/engine/discover.ts';
import { checkRuns, type PromiseLogEntry, readLastRuns, readLinesBackward } from '../../agent/promise/log.ts';
import { cleanupTempDirs, tempDir, tempPartition, writeLegacy, writePlugin } from '../helpers/engine.ts';

afterEach(cleanupTempDirs);

describe('log reading', () => {
  it('reads lines backwards across chunk boundaries, multi-byte characters intact', () => {
    const f = join(tempDir(), 'x.log');
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} é€😀 ${'z'.repeat(i % 7)}`);
    writeFileSync(f, `${lines.join('\n')}\n`);
    expect([...readLinesBackward(f, 7)]).toEqual([...lines].reverse());
    expect([...readLinesBackward(join(tempDir(), 'missing.log'))]).toEqual([]);
  });

  it('ignores torn or foreign lines', () => {
    const f = join(tempDir(), 'p.log');
    const ok = (run: string, level: string) => JSON.stringify({ date: '2025-01-01T00:00:00Z', level, run, message: run });
    writeFileSync(f, `${ok('1', 'ERROR')}\nnot json\n${ok('2', 'INFO')}\n{"date":"2025-01-01T0`);
    const runs = readLastRuns(f, { resultCount: 5 }, new Date('2025-01-02T00:00:00Z'));
    expect(runs.map((r) => r[0]!.message)).toEqual(['2', '1']);
  });

  it('checkRuns matches the reference rule (property)', () => {
    const entry = (failed: boolean): PromiseLogEntry[] => [{ date: new Date(0), status: failed ? 'ERROR' : 'INFO', message: '' }];
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 8 }), fc.integer({ min: 1, max: 5 }), (fails, amount) => {
        const runs = fails.map(entry);
        const got = checkRuns(runs, amount).failed;
        // model: latest failed and at least `amount` failures among the runs given
        const expected = fails.length > 0 && fails[0] === true && fails.filter(Boolean).length >= amount;
        expect(got).toBe(expected);
      }),
    );
  });
});

describe('discovery', () => {
  it('finds plugins (.json/.js/.mjs) and executable legacy promises; flags duplicate titles', () => {
    const part = tempPartition();
    writePlugin(part, 'a.json', '{}');
    writePlugin(part, 'b.mjs', '');
    writePlugin(part, 'c.js', '');
    writePlugin(part, 'notes.txt', '');
    writePlugin(part, '.hidden.mjs', '');
    writeLegacy(part, 'd', 'exit 0');
    const nonExec = join(part, 'etc', 'promise', 'readme');
    writeFileSync(nonExec, 'text');
    chmodSync(nonExec, 0o644);
    writeLegacy(part, 'a', 'exit 0'); // same title as a.json
    const found = discoverPromises(part);
    expect(found.map((e) => [e.name, e.kind])).toEqual([
      ['a.json', 'stock'],
      ['b.mjs', 'module'],
      ['c.js', 'module'],
      ['a', 'legacy'],
      ['d', 'legacy'],
    ]);
    expect(found.find((e) => e.kind === 'legacy' && e.name === 'a')!.problem).toMatch(/duplicate promise title 'a'/);
    expect(discoverPromises(tempDir())).toEqual([]);
  });
});

describe('console table', () => {
  it('shows name, kind, status, duration and a one-line message cut to the width', () => {
    const table = formatTable(
      [
        { name: 'web.json', title: 'web', kind: 'test', failed: false, message: 'ok', date: '', executionTimeMs: 12, legacy: false },
        {
          name: 'db',
          title: 'db',
          kind: 'test',
          failed: true,
          message: `line1\nline2 ${'x'.repeat(300)}`,
          date: '',
          executionTimeMs: 1500,
          legacy: true,
        },
        { name: 'c.mjs', title: 'c', kind: 'test', failed: true, skipped: true, message: 'old', date: '', executionTimeMs: 0, legacy: false },
      ],
      100,
    );
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+KIND\s+STATUS\s+TIME\s+MESSAGE$/);
    expect(lines[1]).toMatch(/^web\.json\s+test\s+kept\s+12 ms\s+ok$/);
    expect(lines[2]).toMatch(/^db \(legacy\)\s+test\s+FAILED\s+1\.5 s\s+line1 \| line2 x+…$/);
    expect(lines[3]).toMatch(/FAILED \(last\)/);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
  });
});

describe('progress line', () => {
  it('spins while promises run, names the running ones, counts the finished, and erases itself', () => {
    vi.useFakeTimers();
    try {
      const out: string[] = [];
      const p = createProgress({ write: (c: string) => out.push(c), columns: 200 }, { intervalMs: 100 });
      vi.advanceTimersByTime(250);
      expect(out).toEqual([]); // nothing before the first promise starts
      p.event({ type: 'start', name: 'web.json', total: 2 });
      p.event({ type: 'start', name: 'db', total: 2 });
      expect(out.at(-1)).toMatch(/^\r\x1b\[2K. running promises: 0\/2 done · web\.json, db$/);
      const before = out.length;
      vi.advanceTimersByTime(300); // a long promise: the spinner keeps turning
      expect(out.length).toBe(before + 3);
      expect(new Set(out.slice(before).map((l) => l.charAt(5))).size).toBe(3);
      const result = { name: 'web.json', title: 'web', kind: 'test' as const, failed: false, message: '', date: '', executionTimeMs: 1, legacy: false };
      p.event({ type: 'done', result, done: 1, total: 2 });
      expect(out.at(-1)).toMatch(/1\/2 done · db$/);
      p.stop();
      expect(out.at(-1)).toBe('\r\x1b[2K');
      const n = out.length;
      vi.advanceTimersByTime(1000);
      expect(out.length).toBe(n); // stopped
    } finally {
      vi.useRealTimers();
    }
  });

  it('fits the terminal width', () => {
    const out: string[] = [];
    const p = createProgress({ write: (c: string) => out.push(c), columns: 40 });
    p.event({ type: 'start', name: 'x'.repeat(100), total: 1 });
    p.stop();
    expect(out[0]!.length).toBeLessThanOrEqual('\r\x1b[2K'.length + 39);
    expect(out[0]!.endsWith('…')).toBe(true);
  });
});
