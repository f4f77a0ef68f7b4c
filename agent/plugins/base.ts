// Common base of the stock plugins: `frequency` (minutes) with the reference plugin's default,
// and the tolerance of test() / anomaly(). Each plugin sets its tolerance as its reference
// counterpart in slapos.toolbox does (which config keys, which defaults, which check they
// apply to, TestResult or AnomalyResult); see docs/writing-promises.md.
import { AnomalyResult, GenericPromise, type PromiseConfig, TestResult } from '../promise/index.ts';
import { pyInt, pyRepr } from './py.ts';

/** [resultCount, failureAmount] */
export type Counts = [number, number];

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
  constructor(config: PromiseConfig, defaultFrequencyMinutes = 2) {
    super(config);
    this.setPeriodicity(asNumber(this.getConfig('frequency'), 'frequency', defaultFrequencyMinutes)!);
  }

  /** Reads a required string config key, or throws a clear error (logged as the failure). */
  protected required(key: string): string {
    const v = this.getConfig<unknown>(key);
    if (v === undefined || v === null || v === '') throw new Error(`config '${key}' is required`);
    return String(v);
  }

  /**
   * result-count / failure-amount style keys (the first spelling given wins; integers as
   * Python's int() reads them), with the plugin's defaults.
   */
  protected counts(resultKeys: string[], failureKeys: string[], dflt: Counts): Counts {
    const read = (keys: string[], d: number) => {
      for (const k of keys) {
        const v = this.getConfig<unknown>(k);
        if (v === undefined || v === null || v === '') continue;
        const n = pyInt(v);
        if (n === undefined) throw new Error(`invalid literal for int() with base 10: ${pyRepr(v)} (config '${k}')`);
        return n;
      }
      return d;
    };
    return [read(resultKeys, dflt[0]), read(failureKeys, dflt[1])];
  }

  /** TestResult over the last runs. */
  protected testOf([resultCount, failureAmount]: Counts, latestMinute = 0): TestResult {
    return this._test({ resultCount, failureAmount, latestMinute });
  }

  /** AnomalyResult over the last runs (a failed one makes a bang due). */
  protected anomalyOf([resultCount, failureAmount]: Counts, latestMinute = 0): AnomalyResult {
    return this._anomaly({ resultCount, failureAmount, latestMinute });
  }
}

export { AnomalyResult, TestResult };
