// check-free-disk-space: path (default: the partition), threshold (minimum free GB),
// threshold-percent (minimum free %, default 5 when no threshold is set),
// inode-threshold-percent (maximum inode use %, default 95).
import { statfsSync } from 'node:fs';
import type { PromiseConfig } from '../promise/index.ts';
import { asNumber, DEFAULT_TOLERANCE, StockPromise } from './base.ts';

const GB = 1024 ** 3;

export default class CheckFreeDiskSpace extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, DEFAULT_TOLERANCE);
  }

  sense(): void {
    const path = this.getConfig<string>('path') || this.getPartitionFolder();
    const thresholdGb = asNumber(this.getConfig('threshold'), 'threshold');
    let thresholdPct = asNumber(this.getConfig('threshold-percent'), 'threshold-percent');
    if (thresholdGb === undefined && thresholdPct === undefined) thresholdPct = 5;
    const inodePct = asNumber(this.getConfig('inode-threshold-percent'), 'inode-threshold-percent', 95)!;
    const s = statfsSync(path);
    const freeBytes = Number(s.bavail) * Number(s.bsize);
    const totalBytes = Number(s.blocks) * Number(s.bsize);
    const freePct = totalBytes > 0 ? (freeBytes / totalBytes) * 100 : 100;
    const inodesUsedPct = Number(s.files) > 0 ? ((Number(s.files) - Number(s.ffree)) / Number(s.files)) * 100 : 0;
    const free = `${(freeBytes / GB).toFixed(2)} GB free (${freePct.toFixed(1)}%) on ${path}`;
    const problems: string[] = [];
    if (thresholdGb !== undefined && freeBytes < thresholdGb * GB) problems.push(`less than ${thresholdGb} GB free`);
    if (thresholdPct !== undefined && freePct < thresholdPct) problems.push(`less than ${thresholdPct}% free`);
    if (inodesUsedPct > inodePct) problems.push(`${inodesUsedPct.toFixed(1)}% of inodes used (max ${inodePct}%)`);
    if (problems.length > 0) this.logger.error(`ERROR ${problems.join(', ')}: ${free}`);
    else this.logger.info(`OK ${free}, ${inodesUsedPct.toFixed(1)}% inodes used`);
  }
}
