// The bang fan-out queue and its dead-letter queue.
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BANG_MAX_RECEIVES } from '../../functions/services/bang-message.ts';

export interface BangQueueProps {
  /**
   * Timeout of the consuming function. The visibility timeout is 6× this plus the event
   * source's batching window (AWS guidance for SQS event sources), so a message is never
   * handed to a second invocation while the first may still be working on it.
   */
  readonly consumerTimeout: Duration;
  /** MaximumBatchingWindow of the consuming event source mapping (default none). */
  readonly consumerBatchingWindow?: Duration;
  /** Receives before a message is moved to the DLQ. */
  readonly maxReceiveCount?: number;
}

/** The receive limit of the bang queue: the one the local master's queue uses too. */
export const BANG_QUEUE_MAX_RECEIVE_COUNT = BANG_MAX_RECEIVES;

/** SQS queue (SSE-SQS, TLS only) with a dead-letter queue after `maxReceiveCount` receives. */
export class BangQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: BangQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // 14 days: the longest SQS allows, to leave time to inspect and redrive poison bangs.
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6 + (props.consumerBatchingWindow?.toSeconds() ?? 0)),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: props.maxReceiveCount ?? BANG_QUEUE_MAX_RECEIVE_COUNT,
      },
    });
  }
}
