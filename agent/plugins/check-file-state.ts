// check-file-state (slapos.toolbox check_file_state): `filename` (relative: in the partition)
// must be in `state` absent | empty | not-empty; `url` (where the content of a file that should
// be empty can be read) is added to the error. Keys and defaults as the reference: frequency
// (2), result-count (1) and failure-amount (1) for test and anomaly (result-count below
// failure-amount is refused), perdiodic-only (false; also spelt periodic-only: no test at
// instantiation), report-anomaly (true; false: no anomaly check). vigil is stricter on one
// point: another state is refused with a clear error (the reference would call it OK).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PromiseConfig } from '../promise/index.ts';
import { type AnomalyResult, type Counts, StockPromise, type TestResult } from './base.ts';
import { pyErrorRepr, pyRepr } from './py.ts';

const STATES = ['absent', 'empty', 'not-empty'];
const yes = (v: unknown) => ['true', 'yes', '1'].includes(String(v).toLowerCase());
const no = (v: unknown) => ['false', 'no', '0'].includes(String(v).toLowerCase());

export default class CheckFileState extends StockPromise {
  private readonly tolerance: Counts;

  constructor(config: PromiseConfig) {
    super(config, 2);
    this.tolerance = this.counts(['result-count'], ['failure-amount'], [1, 1]);
    if (this.tolerance[0] < this.tolerance[1]) {
      throw new Error(`Bad configuration: result-count ${this.tolerance[0]} < failure_amount ${this.tolerance[1]}`);
    }
    if (yes(this.getConfig('perdiodic-only', this.getConfig('periodic-only', 'false')))) this.setTestLess();
    if (no(this.getConfig('report-anomaly', 'true'))) this.setAnomalyLess();
  }

  override test(): TestResult {
    return this.testOf(this.tolerance);
  }

  override anomaly(): AnomalyResult {
    return this.anomalyOf(this.tolerance);
  }

  sense(): void {
    // messages name the file as configured; a relative one is in the partition
    const filename = this.required('filename');
    const file = resolve(this.getPartitionFolder(), filename);
    const state = this.required('state');
    if (!STATES.includes(state)) throw new Error(`config 'state' must be absent, empty or not-empty, got ${pyRepr(state)}`);
    const exists = existsSync(file);
    if (state === 'absent') {
      if (exists) this.logger.error(`ERROR ${pyRepr(filename)} not absent`);
      else this.logger.info(`OK ${pyRepr(filename)} state ${pyRepr(state)}`);
      return;
    }
    if (!exists) {
      this.logger.error(`ERROR ${pyRepr(filename)} not present`);
      return;
    }
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (err) {
      this.logger.error(`ERROR ${pyErrorRepr(err)} during opening and reading file ${pyRepr(filename)}`);
      return;
    }
    const url = String(this.getConfig('url') ?? '').trim();
    if (state === 'empty' && content !== '') {
      this.logger.error(`ERROR ${pyRepr(filename)} not empty${url ? `, content available at ${url}` : ''}`);
    } else if (state === 'not-empty' && content === '') this.logger.error(`ERROR ${pyRepr(filename)} empty`);
    else this.logger.info(`OK ${pyRepr(filename)} state ${pyRepr(state)}`);
  }
}
