// GenericPromise: the base class of every plugin promise (export path `vigil/promise`).
import { mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import {
  appendLogLine,
  type CheckOptions,
  checkRuns,
  type LastResultOptions,
  groupRuns,
  type LogLevel,
  type PromiseLogEntry,
  readLastRuns,
  trimLog,
} from './log.ts';
import { AnomalyResult, type BaseResult, TestResult } from './result.ts';

/** Config given to a promise: its own keys (kebab-case) plus the launcher's keys below. */
export type PromiseConfig = Record<string, unknown> & {
  /** file name of the promise, e.g. `my-check.mjs` (required). */
  name?: string;
  /** absolute path of the promise file (required). */
  path?: string;
  /** the partition directory (required). */
  'partition-folder'?: string;
  /** where the promise log goes; none = in-memory log. */
  'log-folder'?: string;
  /** initial periodicity in minutes (default 2). */
  periodicity?: number;
  /** clock (tests); default () => new Date(). */
  now?: () => Date;
};

export interface PromiseLogger {
  info(message: unknown): void;
  warning(message: unknown): void;
  error(message: unknown): void;
  debug(message: unknown): void;
}

/** What run() hands back to the launcher. */
export interface PromiseRunOutcome {
  /** false when test (or anomaly) is disabled for this promise: nothing ran. */
  executed: boolean;
  result?: BaseResult;
  /** a failed AnomalyResult in anomaly mode: the launcher may bang. */
  bang: boolean;
}

const LAUNCHER_KEYS = ['name', 'path', 'partition-folder', 'log-folder', 'periodicity', 'now'] as const;

function toText(message: unknown): string {
  if (message instanceof Error) return message.message;
  return typeof message === 'string' ? message : String(message);
}

export abstract class GenericPromise {
  readonly #config: Record<string, unknown>;
  readonly #name: string;
  readonly #title: string;
  readonly #path: string;
  readonly #partitionFolder: string;
  readonly #logFolder: string | undefined;
  readonly #logFile: string | undefined;
  readonly #memoryLog: string[] = [];
  readonly #now: () => Date;
  readonly #runId: string;
  #periodicity = 2;
  #tested = true;
  #anomalyDetected = true;
  readonly logger: PromiseLogger;

  constructor(config: PromiseConfig) {
    const cfg: Record<string, unknown> = { ...config };
    const name = cfg['name'];
    const path = cfg['path'];
    const partitionFolder = cfg['partition-folder'];
    if (typeof name !== 'string' || name === '') throw new Error("promise config: 'name' is not set");
    if (typeof path !== 'string' || path === '') throw new Error("promise config: 'path' is not set");
    if (typeof partitionFolder !== 'string' || partitionFolder === '') {
      throw new Error("promise config: 'partition-folder' is not set");
    }
    const logFolder = cfg['log-folder'];
    const now = cfg['now'];
    const periodicity = cfg['periodicity'];
    for (const k of LAUNCHER_KEYS) delete cfg[k];
    this.#config = cfg;
    this.#name = name;
    this.#title = basename(name, extname(name));
    this.#path = path;
    this.#partitionFolder = partitionFolder;
    this.#now = typeof now === 'function' ? (now as () => Date) : () => new Date();
    if (periodicity !== undefined) this.setPeriodicity(Number(periodicity));
    this.#runId = `${Math.floor(this.#now().getTime() / 1000)}-${Math.floor(100 + Math.random() * 900)}-${process.pid}`;
    if (typeof logFolder === 'string' && logFolder !== '') {
      mkdirSync(logFolder, { recursive: true });
      this.#logFolder = logFolder;
      this.#logFile = join(logFolder, `${this.#title}.log`);
    }
    const write = (level: LogLevel) => (message: unknown) => this.#log(level, toText(message));
    this.logger = { info: write('INFO'), warning: write('WARNING'), error: write('ERROR'), debug: write('DEBUG') };
  }

  #log(level: LogLevel, message: string): void {
    const line = { date: this.#now().toISOString(), level, run: this.#runId, message };
    if (this.#logFile) appendLogLine(this.#logFile, line);
    else this.#memoryLog.push(JSON.stringify(line));
  }

  /** Collects data and logs the outcome with this.logger (error = failure). May be async. */
  abstract sense(): void | Promise<void>;

  /** Strict check used at instantiation. Default: the last run must not have failed. */
  test(): TestResult | AnomalyResult | Promise<TestResult | AnomalyResult> {
    return this._test();
  }

  /** Tolerant check used between instantiations. Default: the last 3 runs all failed. */
  anomaly(): TestResult | AnomalyResult | Promise<TestResult | AnomalyResult> {
    return this._anomaly();
  }

  getConfig<T = unknown>(key: string, defaultValue?: T): T {
    const v = this.#config[key];
    return (v === undefined || v === null ? defaultValue : v) as T;
  }

  setConfig(key: string, value: unknown): void {
    this.#config[key] = value;
  }

  getTitle(): string {
    return this.#title;
  }

  getName(): string {
    return this.#name;
  }

  getPromiseFile(): string {
    return this.#path;
  }

  getPartitionFolder(): string {
    return this.#partitionFolder;
  }

  getLogFile(): string | undefined {
    return this.#logFile;
  }

  getLogFolder(): string | undefined {
    return this.#logFolder;
  }

  /** The promise runs every `minutes` minutes (> 0; default 2). */
  setPeriodicity(minutes: number): void {
    if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0) {
      throw new Error(`Cannot set promise periodicity to ${String(minutes)}: it must be a number of minutes > 0`);
    }
    this.#periodicity = minutes;
  }

  getPeriodicity(): number {
    return this.#periodicity;
  }

  /** Skip test(): only anomaly() runs. */
  setTestLess(): void {
    this.#tested = false;
  }

  isTested(): boolean {
    return this.#tested;
  }

  /** Skip anomaly(): only test() runs. */
  setAnomalyLess(): void {
    this.#anomalyDetected = false;
  }

  isAnomalyDetected(): boolean {
    return this.#anomalyDetected;
  }

  /** The current time according to the promise's clock. */
  now(): Date {
    return this.#now();
  }

  /**
   * The last runs of this promise's log, newest first: `[[{date, status, message}, ...], ...]`.
   */
  getLastPromiseResultList(opts: LastResultOptions = {}): PromiseLogEntry[][] {
    if (!this.#logFile) {
      return groupRuns([...this.#memoryLog].reverse(), opts, this.#now());
    }
    return readLastRuns(this.#logFile, opts, this.#now());
  }

  #check(opts: CheckOptions, defaults: Required<Pick<CheckOptions, 'resultCount' | 'failureAmount'>>) {
    const resultCount = Math.max(1, opts.resultCount ?? defaults.resultCount);
    const failureAmount = Math.max(1, opts.failureAmount ?? defaults.failureAmount);
    const runs = this.getLastPromiseResultList({ resultCount, latestMinute: opts.latestMinute ?? 0 });
    return checkRuns(runs, failureAmount);
  }

  /** TestResult from the log: fails if the latest run failed and `failureAmount` of the last `resultCount` did (default 1/1). */
  _test(opts: CheckOptions = {}): TestResult {
    const r = this.#check(opts, { resultCount: 1, failureAmount: 1 });
    return new TestResult({ problem: r.failed, message: r.message, date: this.#now() });
  }

  /** AnomalyResult from the log (default 3/3: fails only if the last 3 runs failed). */
  _anomaly(opts: CheckOptions = {}): AnomalyResult {
    const r = this.#check(opts, { resultCount: 3, failureAmount: 3 });
    return new AnomalyResult({ problem: r.failed, message: r.message, date: this.#now() });
  }

  /**
   * Runs the promise as the launcher does: sense() (a throw is logged as an error) then
   * test() or anomaly(). Never throws.
   */
  async run(checkAnomaly = false): Promise<PromiseRunOutcome> {
    const Result = checkAnomaly ? AnomalyResult : TestResult;
    const date = () => this.#now();
    if (!this.#tested && !this.#anomalyDetected) {
      return {
        executed: true,
        bang: false,
        result: new Result({
          problem: true,
          message: "It's not allowed to disable both test and anomaly in a promise (setTestLess and setAnomalyLess)!",
          date: date(),
        }),
      };
    }
    if ((checkAnomaly && !this.#anomalyDetected) || (!checkAnomaly && !this.#tested)) {
      return { executed: false, bang: false };
    }
    if (this.#logFile) trimLog(this.#logFile);
    try {
      if (typeof (this as { sense?: unknown }).sense !== 'function') throw new Error('sense() is not implemented');
      await this.sense();
    } catch (err) {
      this.logger.error(err instanceof Error ? err.message || String(err) : String(err));
    }
    const method = checkAnomaly ? 'anomaly' : 'test';
    let result: BaseResult;
    let verdict = false; // a result the promise returned itself (an error is not a verdict)
    try {
      const r: unknown = await (checkAnomaly ? this.anomaly() : this.test());
      if (r === undefined || r === null) {
        throw new Error(`Promise ${method}() returned nothing (expected a TestResult or AnomalyResult)`);
      }
      if (!(r instanceof TestResult) && !(r instanceof AnomalyResult)) {
        throw new Error(`Promise ${method}() returned ${describe(r)}, not a TestResult or AnomalyResult`);
      }
      result = r;
      verdict = true;
    } catch (err) {
      result = new Result({ problem: true, message: err instanceof Error ? err.message : String(err), date: date() });
    }
    const bang = verdict && checkAnomaly && result instanceof AnomalyResult && result.hasFailed();
    return { executed: true, result, bang };
  }
}

function describe(v: unknown): string {
  if (typeof v !== 'object' || v === null) return `a ${typeof v} (${String(v)})`;
  const ctor = (v as { constructor?: { name?: string } }).constructor?.name;
  return `an object${ctor ? ` of class ${ctor}` : ''}`;
}

