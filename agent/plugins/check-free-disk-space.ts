// check-free-disk-space: path (default: the partition), threshold (minimum free GB),
// threshold-percent (minimum free %, default 5 when no threshold is set — the reference's
// default threshold is 5 % of the disk), inode-threshold-percent (fails at or above this inode
// use %, default 98 like the reference). Like the reference: checked every 3 minutes,
// test 1/1, anomaly 3/3 as a TestResult (a full disk is not fixed by re-instantiating the
// tree, so it never bangs).
import { statfsSync } from 'node:fs';
import type { PromiseConfig, TestResult } from '../promise/index.ts';
import { asNumber, DEFAULT_TOLERANCE, StockPromise } from './base.ts';

const GB = 1024 ** 3;

export default class CheckFreeDiskSpace extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, DEFAULT_TOLERANCE);
    if (this.getConfig('frequency') === undefined) this.setPeriodicity(3);
  }

  sense(): void {
    const path = this.getConfig<string>('path') || this.getPartitionFolder();
    const thresholdGb = asNumber(this.getConfig('threshold'), 'threshold');
    let thresholdPct = asNumber(this.getConfig('threshold-percent'), 'threshold-percent');
    if (thresholdGb === undefined && thresholdPct === undefined) thresholdPct = 5;
    const inodePct = asNumber(this.getConfig('inode-threshold-percent'), 'inode-threshold-percent', 98)!;
    const s = statfsSync(path);
    const freeBytes = Number(s.bavail) * Number(s.bsize);
    const totalBytes = Number(s.blocks) * Number(s.bsize);
    const freePct = totalBytes > 0 ? (freeBytes / totalBytes) * 100 : 100;
    const inodesUsedPct = Number(s.files) > 0 ? ((Number(s.files) - Number(s.ffree)) / Number(s.files)) * 100 : 0;
    const freeGb = (freeBytes / GB).toFixed(2);
    const problems: string[] = [];
    if (thresholdGb !== undefined && freeBytes < thresholdGb * GB) {
      problems.push(`Free disk space low: remaining ${freeGb} G (threshold: ${thresholdGb} G)`);
    }
    if (thresholdPct !== undefined && freePct < thresholdPct) {
      problems.push(`Free disk space low: remaining ${freePct.toFixed(1)}% (threshold: ${thresholdPct}%)`);
    }
    if (inodesUsedPct >= inodePct) {
      problems.push(`Disk inodes usage is really high: ${inodesUsedPct.toFixed(1)}% (threshold: ${inodePct}%)`);
    }
    const where = `on ${path}: ${freeGb} G free (${freePct.toFixed(1)}%), ${inodesUsedPct.toFixed(1)}% inodes used`;
    if (problems.length > 0) this.logger.error(`ERROR ${problems.join('; ')} ${where}`);
    else this.logger.info(`Disk usage: OK ${where}`);
  }

  /** Never bangs (reference): the tolerant check is a TestResult. */
  override anomaly(): TestResult {
    return this._test({ resultCount: this.tolerance.anomaly[0], failureAmount: this.tolerance.anomaly[1] });
  }
}
