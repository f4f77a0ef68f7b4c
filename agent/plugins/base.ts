// Common base of the stock plugins: `frequency` (minutes), `result-count`, `failure-amount`.
import { type AnomalyResult, GenericPromise, type PromiseConfig, type TestResult } from '../promise/index.ts';

export interface Tolerance {
  test: [resultCount: number, failureAmount: number];
  anomaly: [resultCount: number, failureAmount: number];
}

export function asBool(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  return ['1', 'true', 'yes', 'on'].includes(String(v).toLowerCase());
}

export function asNumber(v: unknown, key: string, dflt?: number): number | undefined {
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`config '${key}' must be a number, got ${JSON.stringify(v)}`);
  return n;
}

export abstract class StockPromise extends GenericPromise {
  protected readonly tolerance: Tolerance;

  constructor(config: PromiseConfig, tolerance: Tolerance) {
    super(config);
    const frequency = asNumber(this.getConfig('frequency'), 'frequency');
    if (frequency !== undefined) this.setPeriodicity(frequency);
    const rc = asNumber(this.getConfig('result-count'), 'result-count');
    const fa = asNumber(this.getConfig('failure-amount'), 'failure-amount');
    this.tolerance = {
      test: [rc ?? tolerance.test[0], fa ?? tolerance.test[1]],
      anomaly: [rc ?? tolerance.anomaly[0], fa ?? tolerance.anomaly[1]],
    };
  }

  /** Reads a required string config key, or throws a clear error (logged as the failure). */
  protected required(key: string): string {
    const v = this.getConfig<unknown>(key);
    if (v === undefined || v === null || v === '') throw new Error(`config '${key}' is required`);
    return String(v);
  }

  override test(): TestResult {
    return this._test({ resultCount: this.tolerance.test[0], failureAmount: this.tolerance.test[1] });
  }

  override anomaly(): AnomalyResult | TestResult {
    return this._anomaly({ resultCount: this.tolerance.anomaly[0], failureAmount: this.tolerance.anomaly[1] });
  }
}

export const DEFAULT_TOLERANCE: Tolerance = { test: [1, 1], anomaly: [3, 3] };
