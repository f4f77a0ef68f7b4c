// check-error-on-http-log (slapos.toolbox check_error_on_http_log): counts the [error] lines
// of an Apache-style error log, like the reference: only the last 4096 bytes of the file are
// read (constant time and memory, whatever the log's size), newest line first, stopping at
// the first line older than `maximum-delay` seconds (0: no limit); the lines whose date cannot
// be parsed are skipped up to 3 times (a line cut by the tail), then the check fails. Errors
// are classified as the reference does: "(113)No route to host" (NOROUTE), "(101)Network is
// unreachable" (UNREACHABLENET), "(110)Connection timed out" (TIMEOUT).
// Keys and defaults: log-file, maximum-delay (0), frequency (720 minutes = twice a day). No
// test at instantiation (setTestLess); anomaly: the last 2 runs failed within 3 periods, as an
// AnomalyResult. vigil extra: Apache 2.4 levels `[<module>:error]` count as [error] too.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import type { PromiseConfig } from '../promise/index.ts';
import { type AnomalyResult, StockPromise } from './base.ts';
import { pyIntOrThrow, pyRepr } from './py.ts';

const DEFAULT_FREQUENCY = 720;
/** The reference reads this much of the end of the log. */
export const TAIL_BYTES = 4096;
const LINE = /^(\[[^\]]+\]) (\[[^\]]+\]) (.*)$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
// "%a %b %d %H:%M:%S %Y", or with ".%f" after the seconds (local time, like time.mktime)
const DATE = /^(\w{3})\s+(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?\s+(\d{4})$/;

/** The local time of an Apache log date (`Wed Oct 11 14:32:52 2023`, microseconds allowed), or undefined. */
export function parseLogDate(text: string): Date | undefined {
  const m = DATE.exec(text.trim());
  if (!m || !DAYS.includes(m[1]!)) return undefined;
  const month = MONTHS.indexOf(m[2]!);
  if (month < 0) return undefined;
  const [day, h, min, s] = [Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  if (day < 1 || day > 31 || h > 23 || min > 59 || s > 61) return undefined;
  return new Date(Number(m[8]), month, day, h, min, s);
}

export interface LogCount {
  errors: number;
  noRoute: number;
  unreachable: number;
  timeout: number;
  /** the newest error's message */
  last?: string;
}

/** The reference's count over the text of the tail of a log. */
export function countErrors(text: string, now: Date, maximumDelaySeconds: number): LogCount {
  const out: LogCount = { errors: 0, noRoute: 0, unreachable: 0, timeout: 0 };
  let parsingFailures = 0;
  for (const line of text.split(/\r\n|\r|\n/).reverse()) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, date, level, msg] = m as unknown as [string, string, string, string];
    const t = parseLogDate(date.slice(1, -1));
    if (!t) {
      // the first line of the tail may be cut in the middle
      if (parsingFailures < 3) {
        parsingFailures++;
        continue;
      }
      throw new Error(`time data ${pyRepr(date.slice(1, -1))} does not match format '%a %b %d %H:%M:%S.%f %Y'`);
    }
    if (maximumDelaySeconds && now.getTime() / 1000 - t.getTime() / 1000 > maximumDelaySeconds) break;
    if (level !== '[error]' && !/^\[[\w-]+:error\]$/.test(level)) continue;
    if (msg.includes('(113)No route to host')) out.noRoute++;
    else if (msg.includes('(101)Network is unreachable')) out.unreachable++;
    else if (msg.includes('(110)Connection timed out')) out.timeout++;
    out.errors++;
    out.last ??= msg;
  }
  return out;
}

/** The last `max` bytes of a file (one read, whatever its size). */
export function readTail(file: string, max = TAIL_BYTES): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, max);
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = readSync(fd, buf, got, n - got, size - n + got);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export default class CheckErrorOnHttpLog extends StockPromise {
  private readonly frequency: number;

  constructor(config: PromiseConfig) {
    super(config, DEFAULT_FREQUENCY);
    this.frequency = this.getPeriodicity();
    // log errors must not block an instantiation: only the periodic check looks at them
    this.setTestLess();
  }

  override anomaly(): AnomalyResult {
    // only the two latest runs, of the last 3 periods
    return this.anomalyOf([2, 2], this.frequency * 3);
  }

  sense(): void {
    const file = this.getConfig<string>('log-file');
    const maximumDelay = pyIntOrThrow(this.getConfig('maximum-delay', 0), 'maximum-delay');
    if (!file) throw new Error('log file was not set in promise parameters.');
    if (!existsSync(file)) {
      // nothing to check
      this.logger.info('OK');
      return;
    }
    const c = countErrors(readTail(file), this.now(), maximumDelay);
    if (c.errors) {
      this.logger.error(
        `ERROR=${c.errors} (NOROUTE=${c.noRoute}, UNREACHABLENET=${c.unreachable}, TIMEOUT=${c.timeout}); last: ${c.last ?? ''}`,
      );
    } else this.logger.info('OK');
  }
}
