// check-socket-listening (slapos.toolbox check_socket_listening): connects to host + port, or
// to a unix socket `pathname`, or to an `abstract` unix socket (Linux). Keys and defaults as
// the reference: frequency (2), result-count (3) and failure-amount (3) for the anomaly only;
// test() is the default strict 1/1, so a closed port or a bad address fails instantiation.
// vigil extras: timeout (10 s), periodic-only (also spelt perdiodic-only: test-less) and
// report-anomaly (false: anomaly-less).
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import type { PromiseConfig } from '../promise/index.ts';
import { type AnomalyResult, asBool, asNumber, type Counts, StockPromise, type TestResult } from './base.ts';
import { pyOSError, pyRepr } from './py.ts';

const ADDRESS_USAGE = 'Address must be specified in 1 of the following 3 forms: (host, port), path or abstract';

export default class CheckSocketListening extends StockPromise {
  private readonly anomalyCounts: Counts;

  constructor(config: PromiseConfig) {
    super(config, 2);
    this.anomalyCounts = this.counts(['result-count'], ['failure-amount'], [3, 3]);
    if (asBool(this.getConfig('periodic-only') ?? this.getConfig('perdiodic-only'), false)) this.setTestLess();
    if (!asBool(this.getConfig('report-anomaly'), true)) this.setAnomalyLess();
  }

  override test(): TestResult {
    return this.testOf([1, 1]);
  }

  override anomaly(): AnomalyResult {
    return this.anomalyOf(this.anomalyCounts);
  }

  async sense(): Promise<void> {
    const host = this.getConfig<string>('host');
    const port = this.getConfig<string | number>('port');
    const path = this.getConfig<string>('pathname');
    const abstract = this.getConfig<string>('abstract');
    const timeoutMs = asNumber(this.getConfig('timeout'), 'timeout', 10)! * 1000;
    let target: { host: string; port: number; family: number } | { path: string };
    let shown: string;
    if (host) {
      if (path || abstract || !port) {
        this.logger.error(ADDRESS_USAGE);
        return;
      }
      const p = Number(port);
      if (!Number.isInteger(p) || String(port).trim() === '') throw new Error(`invalid literal for int() with base 10: ${pyRepr(port)}`);
      if (p < 0 || p > 65535) throw new Error('getsockaddrarg: port must be 0-65535.');
      let address: { address: string; family: number };
      try {
        address = await lookup(String(host));
      } catch {
        throw new Error('[Errno -2] Name or service not known');
      }
      target = { host: address.address, port: p, family: address.family };
      // the address as Python's socket module shows it: ('127.0.0.1', 80) / ('::1', 80, 0, 0)
      shown = address.family === 6 ? `(${pyRepr(address.address)}, ${p}, 0, 0)` : `(${pyRepr(address.address)}, ${p})`;
    } else {
      if (Boolean(path) === Boolean(abstract)) {
        this.logger.error(ADDRESS_USAGE);
        return;
      }
      target = { path: path ? String(path) : `\0${abstract}` };
      shown = pyRepr(target.path);
    }
    const err = await tryConnect(target, timeoutMs);
    if (err) {
      const p = pyOSError(err);
      const text = p.errno !== undefined ? `[Errno ${p.errno}] ${p.strerror}` : p.strerror;
      this.logger.error(`${p.type}: ${text}; address ${shown}`);
    } else this.logger.info(`socket connection OK ${shown}`);
  }
}

function tryConnect(target: { host: string; port: number; family: number } | { path: string }, timeoutMs: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const s = connect(target as never);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      resolve(e);
    });
  });
}
