// check-command-execute (slapos.toolbox check_command_execute): runs `command` with /bin/sh
// in the partition (stdout and stderr in one stream, in the order written); exit 0 = OK.
// Keys and defaults as the reference: frequency (2), result_count (1) and failure_amount (1)
// for the anomaly only (also accepted spelt result-count / failure-amount); test() is 1/1.
import { spawn } from 'node:child_process';
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

function run(command: string, cwd: string): Promise<{ code: number | null; signal: string | null; output: Buffer }> {
  return new Promise((resolve, reject) => {
    // the shell sends its stderr where its stdout goes: one stream, in the order written
    const child = spawn('/bin/sh', ['-c', `exec 2>&1\n${command}`], { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = Buffer.alloc(0);
    child.stdout.on('data', (d: Buffer) => {
      out = Buffer.concat([out, d]);
      if (out.length > OUTPUT_MAX * 2) out = out.subarray(-OUTPUT_MAX);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, output: out.length > OUTPUT_MAX ? out.subarray(-OUTPUT_MAX) : out }));
  });
}
