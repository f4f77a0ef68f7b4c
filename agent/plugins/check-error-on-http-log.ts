// check-error-on-http-log: log-file (Apache/HTTP server error log), maximum-delay (seconds,
// 0 = any age). A run fails when [error] entries newer than maximum-delay are in the tail of
// the log (counted as the reference does: NOROUTE, UNREACHABLENET, TIMEOUT among them).
// Reference semantics: checked every `frequency` minutes (default 720 = twice a day); test()
// never fails (log errors must not block an instantiation); anomaly() fails when the last 2
// runs of the last 3 periods failed, as a TestResult (no bang: re-instantiating the tree does
// not clean a log).
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { type PromiseConfig, TestResult } from '../promise/index.ts';
import { asNumber, StockPromise } from './base.ts';

const DEFAULT_FREQUENCY = 720;

const TAIL_BYTES = 4 * 1024 * 1024;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// [Wed Oct 11 14:32:52.123456 2023] [proxy_http:error] [pid 12] ... message
const LINE = /^\[\w{3} (\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)? (\d{4})\] \[(?:[\w-]+:)?error\] (.*)$/;

export function parseErrorLine(line: string): { date: Date; message: string } | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return undefined;
  const date = new Date(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
  return { date, message: m[7]! };
}

export default class CheckErrorOnHttpLog extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, { test: [1, 1], anomaly: [2, 2] });
    if (this.getConfig('frequency') === undefined) this.setPeriodicity(DEFAULT_FREQUENCY);
  }

  /** Kept whatever the log says (reference): only the anomaly check looks at errors. */
  override test(): TestResult {
    const last = this._test({ resultCount: 1, failureAmount: 1 });
    return new TestResult({ problem: false, message: last.hasFailed() ? `${last.message} (not checked at instantiation)` : last.message, date: last.date });
  }

  override anomaly(): TestResult {
    return this._test({
      resultCount: this.tolerance.anomaly[0],
      failureAmount: this.tolerance.anomaly[1],
      latestMinute: this.getPeriodicity() * 3,
    });
  }

  sense(): void {
    const file = this.required('log-file');
    const maxDelay = asNumber(this.getConfig('maximum-delay'), 'maximum-delay', 0)!;
    if (!existsSync(file)) {
      this.logger.info(`OK (log file ${file} does not exist)`);
      return;
    }
    const text = readTail(file, TAIL_BYTES);
    const since = maxDelay > 0 ? this.now().getTime() - maxDelay * 1000 : Number.NEGATIVE_INFINITY;
    let total = 0;
    let noroute = 0;
    let unreachable = 0;
    let timeout = 0;
    let last = '';
    for (const line of text.split('\n')) {
      const e = parseErrorLine(line);
      if (!e || e.date.getTime() < since) continue;
      total++;
      if (/No route to host/i.test(e.message)) noroute++;
      else if (/Network is unreachable/i.test(e.message)) unreachable++;
      else if (/timed out/i.test(e.message)) timeout++;
      last = e.message;
    }
    const window = maxDelay > 0 ? ` in the last ${maxDelay} s` : '';
    if (total > 0) {
      this.logger.error(
        `ERROR=${total} (NOROUTE=${noroute}, UNREACHABLENET=${unreachable}, TIMEOUT=${timeout})${window} in ${file}; last: ${last}`,
      );
    } else this.logger.info(`OK (no error${window} in ${file})`);
  }
}

function readTail(file: string, max: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, max);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
