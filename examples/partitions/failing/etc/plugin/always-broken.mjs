// A custom plugin whose sense() always fails, with an anomaly that fails at once
// (1 failed run out of 1) so that `--check-anomaly` reports a bang due.
import { GenericPromise } from 'vigil/promise';

export default class AlwaysBroken extends GenericPromise {
  sense() {
    this.logger.error('the backend answered 503 Service Unavailable');
  }

  anomaly() {
    return this._anomaly({ resultCount: 1, failureAmount: 1 });
  }
}
