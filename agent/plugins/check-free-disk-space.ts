// check-free-disk-space (slapos.toolbox check_free_disk_space). Two sources of figures:
// - `collectordb` set (the reference's mode): the slapos.collect collector database (a
//   directory or its collector.db file), read as the reference does: the disk of the
//   partition folder, its size from the latest sample, its free space sampled at the last
//   minute (`test-check-date` / `test-check-time` ('09:17') / `test-disk-partition`
//   ('/dev/sda1') pin the sample, for tests); no sample → "No result from collector database:
//   disk check skipped" (kept); `display-partition` (0) adds the 3 biggest partitions of the
//   last day.
// - otherwise (vigil: no collector needed): the file system of `path` (default: the
//   partition) right now, through statfs.
// Common keys and defaults as the reference: frequency (60 minutes), threshold (minimum free
// space in GB; default 5 % of the disk when its size is known, else 100 GB),
// display-prediction (0) and nb-days-predicted (10) — the reference's ARIMA forecast needs
// pandas/statsmodels: vigil says, as the reference does without them, that it is skipped.
// Inodes: fails at 98 % used or more on the partition's file system (or /tmp when it is a
// mount of its own). test 1/1; anomaly 3/3 as a TestResult (never bangs: a full disk is not
// fixed by re-instantiating the tree). vigil extras: path, threshold-percent (minimum free %),
// inode-threshold-percent (98).
import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PromiseConfig } from '../promise/index.ts';
import { asNumber, StockPromise, type TestResult } from './base.ts';
import { pyInt } from './py.ts';
import { SqliteError, sqliteQuery, sqlText } from './sqlite.ts';

const GB = 1024 ** 3;
const LOCKED = 'database is locked';
const PREDICTION_SKIPPED =
  'Trying to use statsmodels and pandas but at least one module is not installed. Prediction skipped.';

/** The device mounted on the closest ancestor of `path` (/proc/mounts), or undefined. */
export function diskOf(path: string): string | undefined {
  let mounts: { device: string; mountpoint: string }[];
  try {
    mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '))
      .map(([device, mountpoint]) => ({ device: device!, mountpoint: (mountpoint ?? '').replace(/\\040/g, ' ') }));
  } catch {
    return undefined;
  }
  let dir = join(path, 'extrafolder');
  while (dir !== '/') {
    dir = dirname(dir);
    const m = mounts.filter((x) => x.mountpoint === dir).at(-1);
    if (m) return m.device;
  }
  return undefined;
}

function isMount(path: string): boolean {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
}

/** "Disk Inodes usage is really high: 98.1234%" when a file system is that full, else undefined. */
function inodeUsage(path: string, maxPercent: number): string | undefined {
  try {
    const s = statfsSync(path);
    const total = Number(s.files);
    if (!total) return undefined;
    const usage = (100 * (total - Number(s.ffree))) / total;
    return usage >= maxPercent ? `Disk Inodes usage is really high: ${usage.toFixed(4)}%` : undefined;
  } catch {
    return undefined;
  }
}

export default class CheckFreeDiskSpace extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, 60);
  }

  override test(): TestResult {
    return this.testOf([1, 1]);
  }

  /** Never bangs (reference): the tolerant check is a TestResult. */
  override anomaly(): TestResult {
    return this.testOf([3, 3]);
  }

  async sense(): Promise<void> {
    const inodeMax = asNumber(this.getConfig('inode-threshold-percent'), 'inode-threshold-percent', 98)!;
    const db = this.getConfig<string>('collectordb');
    if (db) return this.senseCollector(String(db), inodeMax);
    return this.senseLive(inodeMax);
  }

  private checkInodes(maxPercent: number, folder = this.getPartitionFolder()): void {
    const usage = inodeUsage(folder, maxPercent) ?? (isMount('/tmp') ? inodeUsage('/tmp', maxPercent) : undefined);
    if (usage) this.logger.error(usage);
  }

  /** Reference: GB threshold, default 5 % of the disk (2 decimals) when its size is known, else 100. */
  private thresholdGb(diskSizeBytes: number | undefined): number {
    const dflt = diskSizeBytes !== undefined ? Math.round((diskSizeBytes / GB) * 0.05 * 100) / 100 : 100;
    const pct = asNumber(this.getConfig('threshold-percent'), 'threshold-percent');
    const byPct = pct !== undefined && diskSizeBytes !== undefined ? (diskSizeBytes / GB) * (pct / 100) : undefined;
    return asNumber(this.getConfig('threshold'), 'threshold') ?? byPct ?? dflt;
  }

  private judge(freeBytes: number, diskSizeBytes: number | undefined, threshold: number, where: string): void {
    if (freeBytes > threshold * GB) {
      this.logger.info(`Current disk usage: OK${where}`);
      if (pyInt(this.getConfig('display-prediction', 0) || 0)) this.logger.warning(PREDICTION_SKIPPED);
      return;
    }
    this.logger.error(
      `Free disk space low: remaining ${(freeBytes / GB).toFixed(2)} G (disk size: ${((diskSizeBytes ?? 0) / GB).toFixed(0)} G, threshold: ${threshold.toFixed(0)} G).${where}`,
    );
  }

  /** vigil: the file system of `path` now. */
  private senseLive(inodeMax: number): void {
    const path = this.getConfig<string>('path') || this.getPartitionFolder();
    const s = statfsSync(path);
    const free = Number(s.bavail) * Number(s.bsize);
    const size = Number(s.blocks) * Number(s.bsize);
    this.checkInodes(inodeMax, path);
    const threshold = this.thresholdGb(size);
    this.judge(free, size, threshold, ` (${path}: ${(free / GB).toFixed(2)} G free of ${(size / GB).toFixed(2)} G, threshold ${threshold} G)`);
  }

  /** The reference: the collector database. */
  private async senseCollector(db: string, inodeMax: number): Promise<void> {
    let disk = diskOf(this.getPartitionFolder());
    if (!disk) {
      this.logger.error("Couldn't find disk partition");
      return;
    }
    const dir = db.endsWith('collector.db') ? db.slice(0, -'collector.db'.length) : db;
    if (!existsSync(dir || '.')) throw new Error(`${dir} don't exist`);
    const file = join(dir || '.', 'collector.db');
    const checkDate = this.getConfig<string>('test-check-date');
    let date: string;
    let time: string;
    if (checkDate) {
      date = String(checkDate);
      time = String(this.getConfig('test-check-time', '09:17'));
      disk = String(this.getConfig('test-disk-partition', '/dev/sda1'));
    } else {
      const lastMinute = new Date(this.now().getTime() - 60_000).toISOString();
      date = this.now().toISOString().slice(0, 10);
      time = lastMinute.slice(11, 16);
    }
    const q = (sql: string) => this.query(file, sql);
    const sizeRows = await q(
      `SELECT free+used AS size FROM disk WHERE partition=${sqlText(disk)} ORDER BY datetime(date || ' ' || time) DESC LIMIT 1`,
    );
    if (sizeRows === undefined) return;
    const sizeValue = Number(sizeRows[0]?.size);
    const size = sizeValue ? sizeValue : undefined;
    const threshold = this.thresholdGb(size);
    if (pyInt(this.getConfig('display-partition', 0)) && !(await this.showBiggest(q, date, time))) return;
    this.checkInodes(inodeMax);
    const freeRows = await q(
      `SELECT free FROM disk WHERE date=${sqlText(date)} AND time BETWEEN ${sqlText(`${time}:00`)} AND ${sqlText(`${time}:30`)} AND partition=${sqlText(disk)}`,
    );
    if (freeRows === undefined) return;
    const free = freeRows[0]?.free;
    if (!free) {
      this.logger.info('No result from collector database: disk check skipped');
      return;
    }
    this.judge(Math.trunc(Number(free)), size, threshold, '');
  }

  /** The 3 partitions using the most space over the last day (display-partition). */
  private async showBiggest(q: (sql: string) => Promise<Record<string, unknown>[] | undefined>, date: string, time: string): Promise<boolean> {
    const at = sqlText(`${date} ${time}`);
    const rows = await q(
      `SELECT partition, disk_used*1024 AS used, max(datetime(date || ' ' || time)) AS checked FROM folder ` +
        `WHERE datetime(date || ' ' || time) >= datetime(${at}, '-1 days') AND datetime(date || ' ' || time) <= datetime(${at}) ` +
        'GROUP BY partition ORDER BY disk_used DESC LIMIT 3',
    );
    if (rows === undefined) return false;
    if (rows.length === 0) {
      this.logger.info('No result from collector database in table folder: skipped');
      return true;
    }
    const id = String(this.getConfig('partition-id', 'slappart'));
    for (const r of rows) {
      // the partition's name: the partition id's letters + the digits of the user name
      const name = id.replace(/\d/g, '') + String(r.partition).replace(/\D/g, '');
      this.logger.info(`The partition ${name} uses ${(Number(r.used) / GB).toFixed(2)} G (date checked: ${String(r.checked)}).`);
    }
    return true;
  }

  /**
   * A query; undefined when the database stays locked (another process): a warning, and this
   * run is skipped — after 10 runs in a row skipped so, it fails (reference).
   */
  private async query(file: string, sql: string): Promise<Record<string, unknown>[] | undefined> {
    try {
      return await sqliteQuery(file, sql);
    } catch (err) {
      if (!(err instanceof SqliteError) || !err.message.includes(LOCKED)) throw err;
      const runs = this.getLastPromiseResultList({ resultCount: 10 });
      const lockedRuns = runs.filter((run) => run.some((e) => e.status === 'WARNING' && e.message.includes(LOCKED))).length;
      if (runs.length >= 10 && lockedRuns >= 10) throw err;
      this.logger.warning('collector database is locked by another process');
      return undefined;
    }
  }
}
