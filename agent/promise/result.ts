// Results returned by a promise's test() / anomaly(), and the message cap.

import { MESSAGE_MAX } from '../../protocol/limits.ts';

/**
 * Messages are capped at their last MESSAGE_CAP characters (the end is what matters): the
 * protocol's MESSAGE_MAX, from its zod-free limits module (the vigil/promise bundle stays
 * free of zod).
 */
export const MESSAGE_CAP = MESSAGE_MAX;

/**
 * Keeps the last MESSAGE_CAP characters of a message (SPEC §2). Unlike the reference, no
 * '...' is prepended: the capped message is exactly what the master and the agent loop
 * keep, and never longer than MESSAGE_CAP.
 */
export function capMessage(message: string): string {
  if (message.length <= MESSAGE_CAP) return message;
  return message.slice(-MESSAGE_CAP);
}

export type ResultType = 'Test Result' | 'Anomaly Result' | 'Empty Result';

export interface ResultInit {
  /** true when the promise is not kept. */
  problem?: boolean;
  message?: string;
  date?: Date;
}

export abstract class BaseResult {
  readonly #problem: boolean;
  readonly message: string;
  readonly date: Date;

  constructor(init: ResultInit = {}) {
    this.#problem = init.problem === true;
    this.message = capMessage(init.message ?? '');
    this.date = init.date ?? new Date();
  }

  hasFailed(): boolean {
    return this.#problem;
  }

  abstract type(): ResultType;

  toJSON(): { type: ResultType; failed: boolean; message: string; date: string } {
    return { type: this.type(), failed: this.hasFailed(), message: this.message, date: this.date.toISOString() };
  }
}

/** Result of test(): strict, used at instantiation. */
export class TestResult extends BaseResult {
  type(): ResultType {
    return 'Test Result';
  }
}

/** Result of anomaly(): a failed AnomalyResult makes a bang due. */
export class AnomalyResult extends BaseResult {
  type(): ResultType {
    return 'Anomaly Result';
  }
}
