// check-socket-listening: host + port, or pathname (unix socket), or abstract (Linux).
import { connect } from 'node:net';
import type { PromiseConfig } from '../promise/index.ts';
import { asBool, asNumber, StockPromise } from './base.ts';

const USAGE = 'Address must be specified in 1 of the following 3 forms: (host, port), pathname or abstract';

export default class CheckSocketListening extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, { test: [3, 3], anomaly: [3, 3] });
    if (asBool(this.getConfig('periodic-only'), false)) this.setTestLess();
    if (!asBool(this.getConfig('report-anomaly'), true)) this.setAnomalyLess();
  }

  async sense(): Promise<void> {
    const host = this.getConfig<string>('host');
    const port = this.getConfig<string | number>('port');
    const pathname = this.getConfig<string>('pathname');
    const abstract = this.getConfig<string>('abstract');
    const timeoutMs = (asNumber(this.getConfig('timeout'), 'timeout', 10) ?? 10) * 1000;
    let target: { host: string; port: number } | { path: string };
    let label: string;
    if (host) {
      const p = Number(port);
      if (pathname || abstract || !port || !Number.isInteger(p) || p <= 0 || p > 65535) {
        this.logger.error(USAGE);
        return;
      }
      target = { host, port: p };
      label = `${host}:${p}`;
    } else {
      if (Boolean(pathname) === Boolean(abstract)) {
        this.logger.error(USAGE);
        return;
      }
      target = { path: pathname ? pathname : `\0${abstract}` };
      label = pathname ? pathname : `@${abstract}`;
    }
    const err = await new Promise<Error | undefined>((resolve) => {
      const s = connect(target as never);
      const timer = setTimeout(() => {
        s.destroy();
        resolve(new Error(`connection timed out after ${timeoutMs / 1000} s`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.end();
        s.destroy();
        resolve(undefined);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
    if (err) this.logger.error(`${label}: ${err.message}`);
    else this.logger.info(`socket connection OK ${label}`);
  }
}
