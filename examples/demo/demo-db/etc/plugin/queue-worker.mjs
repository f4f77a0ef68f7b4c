// Demo plugin: the "queue worker" answers until the time written in var/break-at.
// Its anomaly check fails at the first failed run, so the agent bangs at once.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GenericPromise } from 'vigil/promise';

export default class QueueWorker extends GenericPromise {
  constructor(config) {
    super(config);
    this.setPeriodicity(0.1); // minutes: sense at most every 6 s (demo only: a crime in production)
  }

  sense() {
    const file = join(this.getPartitionFolder(), 'var', 'break-at');
    const breakAt = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : Number.POSITIVE_INFINITY;
    if (Date.now() / 1000 >= breakAt) {
      this.logger.error('queue worker stopped answering (simulated crash; re-instantiation repairs it)');
    } else {
      this.logger.info('queue worker answers');
    }
  }

  anomaly() {
    return this._anomaly({ resultCount: 1, failureAmount: 1 });
  }
}
