// A custom plugin: reads /proc/uptime (or falls back to os.uptime) and logs it.
import { readFileSync } from 'node:fs';
import { uptime } from 'node:os';
import { GenericPromise } from 'vigil/promise';

export default class UptimeReadable extends GenericPromise {
  constructor(config) {
    super(config);
    this.setPeriodicity(5); // minutes
  }

  sense() {
    let seconds;
    try {
      seconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    } catch {
      seconds = uptime();
    }
    if (!(seconds > 0)) this.logger.error(`cannot read the uptime (got ${seconds})`);
    else this.logger.info(`up for ${Math.round(seconds)} s`);
  }
  // test() and anomaly() are inherited: test fails if the last run failed,
  // anomaly only if the last 3 runs failed.
}
