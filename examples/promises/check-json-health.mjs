// A complete custom plugin promise: copy it to <partition>/etc/plugin/check-json-health.mjs.
// Its settings come from the partition (here the file etc/health-url) and from getConfig()
// for the keys the launcher passes (partition-id, computer-id, master-url).
//
// It GETs a JSON health endpoint (default http://127.0.0.1:8080/health, or the URL in the
// file <partition>/etc/health-url) and fails when it is unreachable or says status != "ok".
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AnomalyResult, GenericPromise } from 'vigil/promise';

export default class CheckJsonHealth extends GenericPromise {
  constructor(config) {
    super(config);
    this.setPeriodicity(1); // minutes between two sense() runs
  }

  url() {
    const file = join(this.getPartitionFolder(), 'etc', 'health-url');
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : 'http://127.0.0.1:8080/health';
  }

  // Collect and log. logger.error = this run failed. A throw is logged as an error too.
  async sense() {
    const url = this.url();
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = await res.json().catch(() => ({}));
    if (res.status !== 200 || body.status !== 'ok') {
      this.logger.error(`${url} answered ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    } else {
      this.logger.info(`${url} is healthy`);
    }
  }

  // Strict, at instantiation: the last run must have passed (the default, shown here).
  test() {
    return this._test({ resultCount: 1, failureAmount: 1 });
  }

  // Tolerant, between instantiations: bang only when the last 3 runs failed (the default).
  anomaly() {
    const result = this._anomaly({ resultCount: 3, failureAmount: 3 });
    if (!result.hasFailed()) return result;
    const failures = this.getLastPromiseResultList({ resultCount: 3, onlyFailure: true });
    return new AnomalyResult({ problem: true, message: `${failures.length} failed runs, last: ${result.message}` });
  }
}
