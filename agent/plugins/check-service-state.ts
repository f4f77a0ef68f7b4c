// check-service-state: service, expect running | stopped (default running), via
// `supervisorctl status`. supervisorctl is pointed at supervisord with `supervisord-config`
// (-c FILE; default <partition>/etc/supervisord.conf when it exists) or `server-url` (-s URL).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PromiseConfig } from '../promise/index.ts';
import { DEFAULT_TOLERANCE, StockPromise } from './base.ts';

export default class CheckServiceState extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, DEFAULT_TOLERANCE);
  }

  async sense(): Promise<void> {
    const service = this.required('service');
    const expect = String(this.getConfig('expect', 'running'));
    if (expect !== 'running' && expect !== 'stopped') {
      throw new Error(`config 'expect' must be running or stopped, got '${expect}'`);
    }
    const args: string[] = [];
    const conf = this.getConfig<string>('supervisord-config') || join(this.getPartitionFolder(), 'etc', 'supervisord.conf');
    const url = this.getConfig<string>('server-url');
    if (url) args.push('-s', url);
    else if (existsSync(conf)) args.push('-c', conf);
    args.push('status', service);
    const bin = this.getConfig<string>('supervisorctl', 'supervisorctl');
    const { output, error } = await run(bin, args);
    if (error) {
      const hint = error.includes('ENOENT') ? " (install the Debian package 'supervisor')" : '';
      this.logger.error(`ERROR cannot run ${bin}: ${error}${hint}`);
      return;
    }
    const line = output.split('\n').find((l) => l.split(/\s+/)[0] === service || l.startsWith(`${service} `));
    const state = line?.trim().split(/\s+/)[1];
    if (!line || !state) {
      this.logger.error(`ERROR service '${service}': ${output.trim() || 'no status from supervisorctl'}`);
      return;
    }
    const running = state === 'RUNNING';
    const stopped = ['STOPPED', 'EXITED', 'FATAL'].includes(state);
    if ((expect === 'running' && running) || (expect === 'stopped' && stopped)) {
      this.logger.info(`OK service '${service}' is in expected state '${expect}' (${state})`);
    } else {
      this.logger.error(`ERROR service '${service}' is in state '${state.toLowerCase()}' (expected '${expect}'): ${line.trim()}`);
    }
  }
}

function run(bin: string, args: string[]): Promise<{ output: string; error?: string }> {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.on('error', (err: NodeJS.ErrnoException) => resolve({ output: out, error: `${err.code ?? ''} ${err.message}`.trim() }));
    child.on('close', () => resolve({ output: out }));
  });
}
