// Operator alarms, all to one SNS topic (docs/deploy.md, "Alarms"):
//  - a bang in the DLQ, or the oldest bang waiting more than 5 minutes to be fanned out;
//  - any function error; any api/admin answer with a 5xx status (the handler returns 500
//    without throwing, so Lambda's Errors metric never sees it: the app's own metric);
//  - the minute sweep not running (no invocation for 10 minutes);
//  - throttles: of the HTTP functions (their reserved concurrency is exhausted) and of DynamoDB.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface VigilAlarmsProps {
  readonly deadLetterQueue: sqs.IQueue;
  /** The bang queue: alarm when its oldest message waits too long. */
  readonly bangQueue: sqs.IQueue;
  /** DynamoDB: alarm on throttled requests. */
  readonly table: dynamodb.ITableV2;
  /** Functions whose errors alarm. */
  readonly functions: Record<string, lambda.IFunction>;
  /** Powertools service names of the HTTP functions (their `ApiServerErrors` metric). */
  readonly httpServices: readonly string[];
  /** Functions whose throttles alarm (reserved concurrency exhausted). */
  readonly throttled: Record<string, lambda.IFunction>;
  /** The scheduled sweep: alarm when it stops being invoked. */
  readonly sweep: lambda.IFunction;
  /** Optional e-mail address subscribed to the alarm topic. */
  readonly email?: string;
}

/** A bang is normally fanned out within seconds. */
export const BANG_AGE_ALARM_SECONDS = 300;
/** The sweep runs every minute; this long without an invocation is an outage. */
export const SWEEP_SILENCE_ALARM = Duration.minutes(10);

export class VigilAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: VigilAlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'vigil master alarms',
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    const action = new actions.SnsAction(this.topic);
    const above = (id: string, description: string, metric: cloudwatch.IMetric, threshold = 0) =>
      this.alarms.push(
        new cloudwatch.Alarm(this, id, {
          alarmDescription: description,
          metric,
          threshold,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    const oneMinuteMax = { period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM };
    const fiveMinuteSum = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };

    above('DeadLetterQueueNotEmpty', 'A bang could not be fanned out after 5 receives and is in the DLQ.', props.deadLetterQueue.metricApproximateNumberOfMessagesVisible(oneMinuteMax));
    above(
      'BangQueueOldestMessage',
      `A bang has waited more than ${BANG_AGE_ALARM_SECONDS} s to be fanned out (fan-out function failing, throttled or not consuming).`,
      props.bangQueue.metricApproximateAgeOfOldestMessage(oneMinuteMax),
      BANG_AGE_ALARM_SECONDS,
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      above(`${name}Errors`, `The vigil ${name} function reported errors.`, fn.metricErrors(fiveMinuteSum));
    }
    const serverErrors = props.httpServices.map(
      (service) =>
        new cloudwatch.Metric({ namespace: 'Vigil', metricName: 'ApiServerErrors', dimensionsMap: { service }, ...fiveMinuteSum }),
    );
    above(
      'ApiServerErrors',
      'The master answered HTTP 5xx (published by the api and admin functions: a 500 is returned, not thrown, so the Errors alarms do not see it).',
      new cloudwatch.MathExpression({
        expression: serverErrors.map((_, i) => `FILL(e${i}, 0)`).join(' + '),
        usingMetrics: Object.fromEntries(serverErrors.map((m, i) => [`e${i}`, m])),
        period: Duration.minutes(5),
        label: 'ApiServerErrors',
      }),
    );
    for (const [name, fn] of Object.entries(props.throttled)) {
      above(`${name}Throttles`, `The vigil ${name} function was throttled: its reserved concurrency is exhausted (a flood, or size it up).`, fn.metricThrottles(fiveMinuteSum));
    }
    above(
      'TableThrottles',
      'DynamoDB throttled reads or writes of the vigil table (ReadThrottleEvents + WriteThrottleEvents).',
      new cloudwatch.MathExpression({
        expression: 'FILL(r, 0) + FILL(w, 0)',
        usingMetrics: { r: props.table.metric('ReadThrottleEvents', fiveMinuteSum), w: props.table.metric('WriteThrottleEvents', fiveMinuteSum) },
        period: Duration.minutes(5),
        label: 'TableThrottleEvents',
      }),
    );
    // Missing data = no invocation at all: breaching.
    this.alarms.push(
      new cloudwatch.Alarm(this, 'SweepNotRunning', {
        alarmDescription: `The minute sweep has not been invoked for ${SWEEP_SILENCE_ALARM.toMinutes()} minutes: colours are no longer recorded (scheduler disabled or failing).`,
        metric: props.sweep.metricInvocations({ period: SWEEP_SILENCE_ALARM, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
}
