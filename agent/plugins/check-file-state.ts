// check-file-state: filename, state absent | empty | not-empty; url (optional: where the
// content of a file that should be empty can be read, appended to the error).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PromiseConfig } from '../promise/index.ts';
import { StockPromise } from './base.ts';

export default class CheckFileState extends StockPromise {
  constructor(config: PromiseConfig) {
    super(config, { test: [1, 1], anomaly: [1, 1] });
  }

  sense(): void {
    // messages name the file as configured; a relative one is in the partition
    const filename = this.required('filename');
    const file = resolve(this.getPartitionFolder(), filename);
    const state = this.required('state');
    if (!['absent', 'empty', 'not-empty'].includes(state)) {
      throw new Error(`config 'state' must be absent, empty or not-empty, got '${state}'`);
    }
    const exists = existsSync(file);
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
      content = readFileSync(file, 'utf8');
    } catch (err) {
      this.logger.error(`ERROR cannot read '${filename}': ${(err as Error).message}`);
      return;
    }
    const url = String(this.getConfig('url', '')).trim();
    if (state === 'empty' && content !== '') {
      this.logger.error(`ERROR '${filename}' not empty${url ? `, content available at ${url}` : ''}`);
    } else if (state === 'not-empty' && content === '') this.logger.error(`ERROR '${filename}' empty`);
    else this.logger.info(`OK '${filename}' state '${state}'`);
  }
}
