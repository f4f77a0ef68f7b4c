// check-file-state: filename, state absent | empty | not-empty.
import { existsSync, readFileSync } from 'node:fs';
import type { PromiseConfig } from '../promise/index.ts';
import { StockPromise } from './base.ts';

export default class CheckFileState extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, { test: [1, 1], anomaly: [1, 1] });
  }

  sense(): void {
    const filename = this.required('filename');
    const state = this.required('state');
    if (!['absent', 'empty', 'not-empty'].includes(state)) {
      throw new Error(`config 'state' must be absent, empty or not-empty, got '${state}'`);
    }
    const exists = existsSync(filename);
    if (state === 'absent') {
      if (exists) this.logger.error(`ERROR '${filename}' not absent`);
      else this.logger.info(`OK '${filename}' state 'absent'`);
      return;
    }
    if (!exists) {
      this.logger.error(`ERROR '${filename}' not present`);
      return;
    }
    let content: string;
    try {
      content = readFileSync(filename, 'utf8');
    } catch (err) {
      this.logger.error(`ERROR cannot read '${filename}': ${(err as Error).message}`);
      return;
    }
    if (state === 'empty' && content !== '') this.logger.error(`ERROR '${filename}' not empty`);
    else if (state === 'not-empty' && content === '') this.logger.error(`ERROR '${filename}' empty`);
    else this.logger.info(`OK '${filename}' state '${state}'`);
  }
}
