// check-command-execute: command (run by /bin/sh); exit 0 = OK, else the output is the error.
import { spawn } from 'node:child_process';
import type { PromiseConfig } from '../promise/index.ts';
import { DEFAULT_TOLERANCE, StockPromise } from './base.ts';

export default class CheckCommandExecute extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, DEFAULT_TOLERANCE);
  }

  async sense(): Promise<void> {
    const command = this.required('command');
    const { code, signal, output } = await new Promise<{ code: number | null; signal: string | null; output: string }>(
      (resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', command], { cwd: this.getPartitionFolder(), stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        const add = (d: Buffer) => {
          out += d.toString('utf8');
          if (out.length > 20_000) out = out.slice(-10_000);
        };
        child.stdout.on('data', add);
        child.stderr.on('data', add);
        child.on('error', reject);
        child.on('close', (c, s) => resolve({ code: c, signal: s, output: out.trim() }));
      },
    );
    if (code !== 0) {
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      this.logger.error(`ERROR '${command}' run with failure (${why}), output: ${output}`);
    } else {
      this.logger.info(`OK '${command}' run with success`);
    }
  }
}
