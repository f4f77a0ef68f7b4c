// Notifications in the cloud (docs/deploy.md "Notifications"):
//   publishers (api, admin, fanout, sweep) → DynamoDB outbox + delivery queues (the table)
//                                          → SQS notify queue (a wake-up message) (+ DLQ)
//   notify Lambda ← that queue (partial batch failures) and EventBridge Scheduler (every minute)
//     → webhooks / Slack (HTTPS), and every sendable event → the VigilEvents bus
//   optional: bus rule → SNS topic (KMS-encrypted, TLS only) → e-mail (-c vigil:notifyEmail=…)
import { type CfnElement, Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../functions/notify-bus.ts';
import { NOTIFY_MAX_RECEIVES } from '../../functions/services/notify-wake.ts';
import { VigilFunction } from './vigil-function.ts';
import { grantTableActions, type VigilTable } from './vigil-table.ts';

export const NOTIFY_TIMEOUT = Duration.seconds(60);
export const NOTIFY_BATCHING_WINDOW = Duration.seconds(0);

export interface VigilNotifyProps {
  readonly table: VigilTable;
  /** The dashboard's URL (links in events): the admin function URL's origin, or a custom domain. */
  readonly publicUrl: string;
  /** Functions that publish events: they get the queue URL, send rights, and the public URL. */
  readonly publishers: readonly VigilFunction[];
  readonly alarmTopic: sns.ITopic;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly reservedConcurrency?: number | undefined;
  /** E-mail address that gets every sendable event (bus rule → SNS → e-mail). */
  readonly email?: string | undefined;
}

export class VigilNotify extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly bus: events.EventBus;
  readonly fn: VigilFunction;
  readonly emailTopic?: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: VigilNotifyProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // 6× the function timeout (AWS guidance for SQS event sources)
      visibilityTimeout: Duration.seconds(NOTIFY_TIMEOUT.toSeconds() * 6 + NOTIFY_BATCHING_WINDOW.toSeconds()),
      retentionPeriod: Duration.days(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: NOTIFY_MAX_RECEIVES },
    });
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${Stack.of(this).stackName}-VigilEvents`, description: 'vigil events (detail-type = event type, detail = the webhook body)' });

    this.fn = new VigilFunction(this, 'Function', {
      handler: 'notify',
      description: 'vigil notifications: delivers queued events to webhooks, Slack and the EventBridge bus',
      timeout: NOTIFY_TIMEOUT,
      memorySize: 256,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment: {
        TABLE_NAME: props.table.table.tableName,
        NOTIFY_QUEUE_URL: this.queue.queueUrl,
        EVENT_BUS_NAME: this.bus.eventBusName,
        VIGIL_PUBLIC_URL: props.publicUrl,
      },
    });
    grantTableActions(this.fn.role, props.table, 'notify');
    // events:PutEvents on this bus only; its own queue for delayed wake-ups
    this.bus.grantPutEventsTo(this.fn.role);
    this.queue.grantSendMessages(this.fn.role);
    this.fn.fn.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));
    for (const p of props.publishers) {
      this.queue.grantSendMessages(p.role);
      p.fn.addEnvironment('NOTIFY_QUEUE_URL', this.queue.queueUrl);
      p.fn.addEnvironment('EVENT_BUS_NAME', this.bus.eventBusName);
    }
    this.schedule();
    if (props.email) this.emailTopic = this.email(props.email);
    this.addAlarms(props.alarmTopic);
  }

  /** Every minute: retries that came due, and the repair of events left unrouted. */
  private schedule(): void {
    const role = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'EventBridge Scheduler: invoke the vigil notify function only',
    });
    const fnId = Stack.of(this).getLogicalId(this.fn.fn.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason: 'CDK grantInvoke adds `<function ARN>:*` (versions and aliases of the notify function itself) next to the unqualified ARN; it covers no other function.',
    });
    new scheduler.Schedule(this, 'EveryMinute', {
      description: 'vigil: deliver notifications that came due',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      target: new schedulerTargets.LambdaInvoke(this.fn.fn, {
        role,
        input: scheduler.ScheduleTargetInput.fromObject({ source: 'vigil.scheduler', schedule: 'notify', scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    });
    this.fn.fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(60) });
  }

  /** Bus rule → SNS topic (encrypted with a key EventBridge may use, TLS only) → e-mail. */
  private email(address: string): sns.Topic {
    const key = new kms.Key(this, 'EmailTopicKey', {
      description: 'vigil: encrypts the notification e-mail topic (EventBridge publishes to it)',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    const topic = new sns.Topic(this, 'EmailTopic', { displayName: 'vigil notifications', enforceSSL: true, masterKey: key });
    topic.addSubscription(new subscriptions.EmailSubscription(address));
    const text = events.RuleTargetInput.fromText(
      `vigil ${events.EventField.detailType}: computer ${events.EventField.fromPath('$.detail.computerId')} ` +
        `partition ${events.EventField.fromPath('$.detail.partitionId')} tree ${events.EventField.fromPath('$.detail.instanceTreeId')} ` +
        `at ${events.EventField.fromPath('$.detail.at')}: ${events.EventField.fromPath('$.detail.link')} (event ${events.EventField.fromPath('$.detail.eventId')})`,
    );
    new events.Rule(this, 'EmailRule', {
      eventBus: this.bus,
      description: 'vigil: every sendable event to the notification e-mail topic',
      eventPattern: { source: [EVENT_SOURCE] },
      targets: [new eventTargets.SnsTopic(topic, { message: text })],
    });
    return topic;
  }

  private addAlarms(topic: sns.ITopic): void {
    const action = new actions.SnsAction(topic);
    const fiveMinuteSum = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    const above = (id: string, description: string, metric: cloudwatch.IMetric) => {
      const alarm = new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    };
    above('Errors', 'The vigil notify function reported errors (deliveries wait in the table and are retried).', this.fn.fn.metricErrors(fiveMinuteSum));
    above(
      'DeadLetterQueueNotEmpty',
      `A notify wake-up message failed ${NOTIFY_MAX_RECEIVES} times and is in the DLQ (malformed, or the function kept failing).`,
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
    );
    above(
      'DeadDeliveries',
      'A notification delivery died: a receiver refused an event (4xx/3xx) or was down for 48 h (GET /v1/channels/{id}: dead.last).',
      new cloudwatch.Metric({ namespace: 'Vigil', metricName: 'DeadDeliveries', dimensionsMap: { service: 'vigil-notify' }, ...fiveMinuteSum }),
    );
  }
}
