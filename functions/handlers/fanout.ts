// Lambda entry of the bang fan-out: an SQS batch, one bang per record. Powertools batch
// processing reports the records that failed (`batchItemFailures`), so only those come back
// to the queue; after maxReceiveCount receives SQS moves them to the dead-letter queue.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MalformedBangMessage } from '../services/bang-message.ts';
import { consumeBangMessage, type FanOutDeps } from '../services/fanout.ts';
import { createDynamoClient, createObservability, type Observability, storeFromEnv } from './runtime.ts';

export type FanoutHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function createFanoutHandler(deps: FanOutDeps, obs: Observability = createObservability('vigil-fanout')): FanoutHandler {
  const { logger, metrics } = obs;
  const processor = new BatchProcessor(EventType.SQS);
  const record = async (r: SQSRecord): Promise<void> => {
    try {
      const { message, result } = await consumeBangMessage(deps, r.body);
      logger.info('bang fanned out', { messageId: r.messageId, bangId: message.bangId, instanceTreeId: message.instanceTreeId, ...result });
      metrics.addMetric('PartitionsFlagged', MetricUnit.Count, result.flagged);
    } catch (err) {
      // A malformed message never becomes valid: it fails every receive and ends in the DLQ,
      // where the alarm shows it to an operator.
      if (err instanceof MalformedBangMessage) {
        logger.error('malformed bang message', { messageId: r.messageId, error: err });
        metrics.addMetric('MalformedBangs', MetricUnit.Count, 1);
      }
      throw err;
    }
  };
  return async (event, context) => {
    logger.addContext(context);
    try {
      return await processPartialResponse(event, record, processor, { context });
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

let lazy: FanoutHandler | undefined;

export const handler: FanoutHandler = (event, context) => {
  if (!lazy) {
    const obs = createObservability('vigil-fanout');
    lazy = createFanoutHandler({ store: storeFromEnv(process.env, { dynamo: createDynamoClient() }), now: () => new Date() }, obs);
  }
  return lazy(event, context);
};
