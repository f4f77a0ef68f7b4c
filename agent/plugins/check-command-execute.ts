// check-command-execute (slapos.toolbox check_command_execute): runs `command` with /bin/sh
// in the partition (stdout and stderr in one stream, in the order written); exit 0 = OK.
// Keys and defaults as the reference: frequency (2), result_count (1) and failure_amount (1)
// for the anomaly only (also accepted spelt result-count / failure-amount); test() is 1/1.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { OutputPipes } from '../engine/output-pipe.ts';
import type { PromiseConfig } from '../promise/index.ts';
import { type AnomalyResult, type Counts, StockPromise, type TestResult } from './base.ts';
import { pyBytesRepr, pyRepr } from './py.ts';

/** Output kept for the message (the end of it). */
const OUTPUT_MAX = 20_000;

export default class CheckCommandExecute extends StockPromise {
  private readonly anomalyCounts: Counts;

  constructor(config: PromiseConfig) {
    super(config, 2);
    this.anomalyCounts = this.counts(['result_count', 'result-count'], ['failure_amount', 'failure-amount'], [1, 1]);
  }

  override test(): TestResult {
    return this.testOf([1, 1]);
  }

  override anomaly(): AnomalyResult {
    return this.anomalyOf(this.anomalyCounts);
  }

  async sense(): Promise<void> {
    const command = this.getConfig<unknown>('command');
    if (command === undefined || command === null || command === '') {
      this.logger.error(`ERROR ValueError('no command to run: config command is not set') during running command ${pyRepr(command)}`);
      return;
    }
    let r: { code: number | null; signal: string | null; output: Buffer };
    try {
      r = await run(String(command), this.getPartitionFolder());
    } catch (err) {
      this.logger.error(`ERROR OSError(${pyRepr((err as Error).message)}) during running command ${pyRepr(command)}`);
      return;
    }
    if (r.code !== 0) {
      const why = r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
      this.logger.error(`ERROR ${pyRepr(command)} run with failure, output: ${pyBytesRepr(r.output)} (${why})`);
    } else {
      this.logger.info(`OK ${pyRepr(command)} run with success`);
    }
  }
}

type RunOutput = { code: number | null; signal: string | null; output: Buffer };

/**
 * Runs the command with stdout and stderr on one kernel pipe (a FIFO, as the reference's
 * subprocess does): one stream in the order written, and `> /dev/stderr` works (it fails on
 * a socket, which Node's 'pipe' stdio is). Without a FIFO, the shell's own `2>&1`.
 */
async function run(command: string, cwd: string): Promise<RunOutput> {
  const pipes = new OutputPipes(1);
  try {
    const pipe = await pipes.open();
    if (!pipe) return await runOnSocket(command, cwd);
    try {
      const child = spawn('/bin/sh', ['-c', command], { cwd, stdio: ['ignore', pipe.writeFd, pipe.writeFd] });
      closeSync(pipe.writeFd);
      return await collect(child, pipe.reader);
    } finally {
      pipe.release();
    }
  } finally {
    pipes.close();
  }
}

function runOnSocket(command: string, cwd: string): Promise<RunOutput> {
  const child = spawn('/bin/sh', ['-c', `exec 2>&1\n${command}`], { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
  return collect(child, child.stdout);
}

/** The exit and the end of the output (OUTPUT_MAX bytes at most) of a child. */
function collect(child: ChildProcess, stream: Readable): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    let out = Buffer.alloc(0);
    stream.on('data', (d: Buffer) => {
      out = Buffer.concat([out, d]);
      if (out.length > OUTPUT_MAX * 2) out = out.subarray(-OUTPUT_MAX);
    });
    let exit: { code: number | null; signal: string | null } | undefined;
    let ended = false;
    const done = () => {
      if (exit && ended) resolve({ ...exit, output: out.length > OUTPUT_MAX ? out.subarray(-OUTPUT_MAX) : out });
    };
    stream.once('close', () => {
      ended = true;
      done();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      done();
    });
  });
}
