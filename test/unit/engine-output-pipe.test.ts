// The output FIFOs of legacy promises (agent/engine/output-pipe.ts), without a child: this
// process plays the writer. Linux (/proc/self/fd names the FIFO of an fd).
import { closeSync, constants, existsSync, mkdtempSync, openSync, readlinkSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type OpenPipe, OutputPipes } from '../../agent/engine/output-pipe.ts';

const pathOf = (p: OpenPipe) => readlinkSync(`/proc/self/fd/${p.writeFd}`);

/** Reads a pipe until it ends or is closed; resolves with the text and whether it ended. */
function readAll(p: OpenPipe): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    let ended = false;
    p.reader.setEncoding('utf8');
    p.reader.on('data', (d: string) => {
      text += d;
    });
    p.reader.once('end', () => {
      ended = true;
    });
    p.reader.once('close', () => resolve({ text, ended }));
  });
}

const pools: OutputPipes[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.close();
});
function pool(size: number): OutputPipes {
  const p = new OutputPipes(size);
  pools.push(p);
  return p;
}

describe('OutputPipes', () => {
  it('makes the pool in one private dir (0700) of FIFOs, and reuses a FIFO whose stream ended', async () => {
    const pipes = pool(3);
    const opened = await Promise.all([pipes.open(), pipes.open(), pipes.open()]);
    const paths = opened.map((p) => pathOf(p!));
    expect(new Set(paths).size).toBe(3);
    const dir = dirname(paths[0]!);
    expect(paths.every((p) => dirname(p) === dir)).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(paths.every((p) => statSync(p).isFIFO())).toBe(true);
    for (const [i, p] of opened.entries()) {
      const read = readAll(p!);
      writeSync(p!.writeFd, `hello ${i}\n`);
      closeSync(p!.writeFd); // the last writer: the stream ends
      expect(await read).toEqual({ text: `hello ${i}\n`, ended: true });
      p!.release();
    }
    // the same FIFOs again, and nothing left from the previous use
    const again = await pipes.open();
    expect(paths).toContain(pathOf(again!));
    const read = readAll(again!);
    writeSync(again!.writeFd, 'fresh\n');
    closeSync(again!.writeFd);
    expect(await read).toEqual({ text: 'fresh\n', ended: true });
    again!.release();
    pipes.close();
    expect(existsSync(dir)).toBe(false);
    expect(pipes.problem).toBeUndefined();
  });

  it('a FIFO still held by another writer is deleted on release, and a new one is made', async () => {
    const pipes = pool(1);
    const first = (await pipes.open())!;
    const path = pathOf(first);
    const daemon = openSync(path, constants.O_WRONLY); // a writer the promise left behind
    closeSync(first.writeFd);
    first.release(); // no end: a writer is left
    expect(existsSync(path)).toBe(false);
    const second = (await pipes.open())!;
    const next = pathOf(second);
    expect(next).not.toBe(path);
    expect(dirname(next)).toBe(dirname(path));
    const read = readAll(second);
    // the old FIFO has no reader any more: the daemon's writes fail, the new stream never sees them
    expect(() => writeSync(daemon, 'LEAK\n')).toThrow(/EPIPE/);
    closeSync(second.writeFd);
    expect(await read).toEqual({ text: '', ended: true });
    second.release();
    closeSync(daemon);
  });

  it('no FIFO when the temp dir is unusable: open() gives undefined and says why', async () => {
    const saved = process.env['TMPDIR'];
    const base = mkdtempSync(join(tmpdir(), 'vigil-test-'));
    process.env['TMPDIR'] = join(base, 'missing');
    try {
      const pipes = pool(2);
      expect(await pipes.open()).toBeUndefined();
      expect(pipes.problem).toMatch(/^cannot make the output pipes \(mkfifo in .*missing\): /);
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('a closed pool gives no FIFO', async () => {
    const pipes = pool(1);
    pipes.close();
    expect(await pipes.open()).toBeUndefined();
  });
});
