// Public types of the engine (contract with the agent loop; keep names stable).

export interface RunOptions {
  partitionDir: string;
  mode: 'test' | 'anomaly';
  /** ignore periodicity: run every promise now. */
  force?: boolean;
  /** promise titles (file name without extension) to run; others are left alone. */
  runOnly?: string[];
  /** run without side effects: no result/cache written, logs go to a throw-away copy, no bang. */
  dryRun?: boolean;
  /** per promise, default 20. */
  timeoutSeconds?: number;
  /** promises run at the same time, default os.availableParallelism(). */
  concurrency?: number;
  config?: { partitionId?: string; computerId?: string; masterUrl?: string };
  onProgress?: (ev: ProgressEvent) => void;
}

export interface PromiseRunResult {
  /** file name */
  name: string;
  /** name without extension */
  title: string;
  kind: 'test' | 'anomaly';
  failed: boolean;
  message: string;
  /** ISO */
  date: string;
  executionTimeMs: number;
  legacy: boolean;
  /** not run this time (not due for periodicity, or test/anomaly disabled); failed reuses the last failed result. */
  skipped?: boolean;
  /** the promise's periodicity in minutes, when known (maps to PromiseReport.periodicityMinutes). */
  periodicityMinutes?: number;
}

export interface PartitionRunResult {
  ok: boolean;
  startedAt: string;
  durationMs: number;
  results: PromiseRunResult[];
  bang: { due: boolean; promise?: string; message?: string };
  /**
   * files in etc/promise that are not promises (not executable, not regular files): the
   * reference warns "Bad promise file at ..." and goes on; they do not change the verdict.
   */
  warnings?: string[];
}

export type ProgressEvent =
  | { type: 'start'; name: string; total: number }
  | { type: 'done'; result: PromiseRunResult; done: number; total: number };

/** A job sent to a runner worker (one plugin promise). */
export interface RunnerJob {
  id: number;
  /** absolute path of the module (custom plugin) or of the JSON file (stock plugin). */
  file: string;
  /** stock plugin name, when the promise is a JSON stock plugin. */
  stock?: string;
  /** file mtime, used to bust the ESM cache. */
  version: number;
  config: Record<string, unknown>;
  checkAnomaly: boolean;
}

export type RunnerReply =
  | {
      id: number;
      ok: true;
      executed: boolean;
      bang: boolean;
      result?: { type: string; failed: boolean; message: string; date: string };
      periodicity: number;
      isTested: boolean;
      isAnomalyDetected: boolean;
    }
  | { id: number; ok: false; error: string };
