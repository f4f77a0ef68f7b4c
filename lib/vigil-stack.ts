// The vigil master on AWS: one stack.
//   Function URL (HTTPS) → api Lambda (Hono app) → DynamoDB single table
//   api → SQS bang queue (+ DLQ) → fanout Lambda (partial batch failures)
//   EventBridge Scheduler (every minute) → sweep Lambda
//   Secrets Manager admin token (read by api), SNS alarm topic, CloudWatch alarms.
// See docs/deploy.md and docs/decisions.md ("Cloud").
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { VigilAlarms } from './constructs/alarms.ts';
import { BangQueue } from './constructs/bang-queue.ts';
import { VigilFunction } from './constructs/vigil-function.ts';
import { grantTableActions, VigilTable } from './constructs/vigil-table.ts';

export interface VigilStackProps extends StackProps {
  /** DynamoDB deletion protection and RETAIN removal policies (default true). */
  readonly deletionProtection?: boolean;
  /** E-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /** Reserved concurrency of the api function: the throttle of the HTTP front. */
  readonly apiReservedConcurrency?: number;
  /** Log retention of every function (default one month). */
  readonly logRetention?: logs.RetentionDays;
}

export const API_TIMEOUT = Duration.seconds(10);
export const FANOUT_TIMEOUT = Duration.seconds(30);
/** The fan-out event source waits at most this long to fill a batch. */
export const FANOUT_BATCHING_WINDOW = Duration.seconds(1);
export const SWEEP_TIMEOUT = Duration.seconds(50);

export class VigilStack extends Stack {
  readonly table: VigilTable;
  readonly bangQueue: BangQueue;
  readonly adminToken: secretsmanager.Secret;
  readonly api: VigilFunction;
  readonly fanout: VigilFunction;
  readonly sweep: VigilFunction;
  readonly functionUrl: lambda.FunctionUrl;
  readonly alarms: VigilAlarms;

  constructor(scope: Construct, id: string, props: VigilStackProps = {}) {
    super(scope, id, props);
    const protect = props.deletionProtection ?? true;
    const removalPolicy = protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.table = new VigilTable(this, 'Table', { deletionProtection: protect, removalPolicy });
    this.bangQueue = new BangQueue(this, 'Bangs', {
      consumerTimeout: FANOUT_TIMEOUT,
      consumerBatchingWindow: FANOUT_BATCHING_WINDOW,
    });

    this.adminToken = new secretsmanager.Secret(this, 'AdminToken', {
      description: 'vigil master admin token (Authorization: Bearer <token>)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    Validations.of(this.adminToken).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The admin token is a bearer token for humans and scripts, not a database credential: ' +
        'there is no service to rotate it in. Operators rotate it with ' +
        '`aws secretsmanager put-secret-value` (docs/deploy.md); the api picks the new value up ' +
        'within its 5-minute cache.',
    });

    const common = { TABLE_NAME: this.table.table.tableName };

    this.api = new VigilFunction(this, 'Api', {
      handler: 'api',
      description: 'vigil master HTTP API (Hono) behind the function URL',
      timeout: API_TIMEOUT,
      memorySize: 512,
      logRetention,
      removalPolicy,
      reservedConcurrentExecutions: props.apiReservedConcurrency,
      systemLogLevel: lambda.SystemLogLevel.WARN,
      environment: {
        ...common,
        BANG_QUEUE_URL: this.bangQueue.queue.queueUrl,
        ADMIN_TOKEN_SECRET_ARN: this.adminToken.secretArn,
      },
    });
    this.fanout = new VigilFunction(this, 'Fanout', {
      handler: 'fanout',
      description: 'vigil bang fan-out: flags every partition of the tree for reprocessing',
      timeout: FANOUT_TIMEOUT,
      memorySize: 256,
      logRetention,
      removalPolicy,
      environment: common,
    });
    this.sweep = new VigilFunction(this, 'Sweep', {
      handler: 'sweep',
      description: 'vigil minute sweep: records colour changes',
      timeout: SWEEP_TIMEOUT,
      memorySize: 256,
      logRetention,
      removalPolicy,
      environment: common,
    });

    // Least privilege: each function gets exactly the DynamoDB actions its code path uses.
    grantTableActions(this.api.role, this.table, 'api');
    grantTableActions(this.fanout.role, this.table, 'fanout');
    grantTableActions(this.sweep.role, this.table, 'sweep');
    this.adminToken.grantRead(this.api.role);
    this.bangQueue.queue.grantSendMessages(this.api.role);

    this.fanout.fn.addEventSource(
      new SqsEventSource(this.bangQueue.queue, {
        batchSize: 10,
        maxBatchingWindow: FANOUT_BATCHING_WINDOW,
        reportBatchItemFailures: true,
      }),
    );

    const schedulerRole = new iam.Role(this, 'SweepSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: 'EventBridge Scheduler: invoke the vigil sweep function only',
    });
    const sweepLogicalId = this.getLogicalId(this.sweep.fn.node.defaultChild as lambda.CfnFunction);
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${sweepLogicalId}.Arn>:*]`,
      reason:
        'CDK grantInvoke adds `<function ARN>:*` (versions and aliases of the sweep function ' +
        'itself) next to the unqualified ARN; it covers no other function.',
    });
    new scheduler.Schedule(this, 'SweepEveryMinute', {
      description: 'vigil: recompute colours every minute',
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
      target: new targets.LambdaInvoke(this.sweep.fn, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({
          source: 'vigil.scheduler',
          schedule: 'minute',
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
        }),
        // A missed minute is redone by the next one: never pile up stale sweeps.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    });

    // HTTPS front: a Lambda function URL (docs/decisions.md "HTTP front"). Function URLs are
    // HTTPS only; authentication is the bearer tokens checked by the app.
    this.functionUrl = this.api.fn.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
    });

    this.alarms = new VigilAlarms(this, 'Alarms', {
      deadLetterQueue: this.bangQueue.deadLetterQueue,
      functions: { Api: this.api.fn, Fanout: this.fanout.fn, Sweep: this.sweep.fn },
      email: props.alarmEmail,
    });

    // The function URL ends with '/'; the output does not, so `$URL/healthz` and
    // `--master $URL` work as they are (`https://<id>.lambda-url.<region>.on.aws`).
    const urlParts = Fn.split('/', this.functionUrl.url);
    new CfnOutput(this, 'ApiUrl', {
      value: Fn.join('//', [Fn.select(0, urlParts), Fn.select(2, urlParts)]),
      description: 'master URL (agents: --master)',
    });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    new CfnOutput(this, 'BangQueueUrl', { value: this.bangQueue.queue.queueUrl });
    new CfnOutput(this, 'AdminTokenSecretArn', {
      value: this.adminToken.secretArn,
      description: 'aws secretsmanager get-secret-value --secret-id <arn> --query SecretString --output text',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
  }
}

