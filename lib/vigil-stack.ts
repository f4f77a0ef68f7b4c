// The vigil master on AWS: one stack.
//   Function URL (HTTPS) → api Lambda (Hono app, agent routes only) → DynamoDB single table
//   Function URL (HTTPS) → admin Lambda (same bundle: admin API + dashboard)
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
  /**
   * Reserved concurrency per function (docs/decisions.md, "Fleet scale: cloud front"): caps
   * what a flood can take and guarantees the rest their share. `false` reserves nothing (an
   * account whose concurrency limit is too low to reserve any).
   */
  readonly reservedConcurrency?: false | Partial<ReservedConcurrency>;
  /** Log retention of every function (default one month). */
  readonly logRetention?: logs.RetentionDays;
}

export interface ReservedConcurrency {
  /** Agent calls (heartbeats, reports, bangs). */
  api: number;
  /** Admin API and dashboard. */
  admin: number;
  fanout: number;
  /** One at a time: a sweep still running when the next minute comes makes that one drop. */
  sweep: number;
}

/** 1,000 computers at one call a minute need ~1 concurrent api execution; 50 leaves headroom. */
export const DEFAULT_RESERVED_CONCURRENCY: ReservedConcurrency = { api: 50, admin: 10, fanout: 5, sweep: 1 };

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
  readonly admin: VigilFunction;
  readonly fanout: VigilFunction;
  readonly sweep: VigilFunction;
  readonly functionUrl: lambda.FunctionUrl;
  readonly adminUrl: lambda.FunctionUrl;
  readonly alarms: VigilAlarms;

  constructor(scope: Construct, id: string, props: VigilStackProps = {}) {
    super(scope, id, props);
    const protect = props.deletionProtection ?? true;
    const removalPolicy = protect ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    // 'Store' (the store layout of issue 12), not 'Table': a deployed table cannot change its
    // indexes' projections, nor more than one index per update, so an existing stack gets a NEW
    // table (the old one is retained, never deleted) and `vigil migrate` copies the data
    // (docs/deploy.md "Moving to the store layout of issue 12").
    this.table = new VigilTable(this, 'Store', { deletionProtection: protect, removalPolicy });
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
    const reserved = props.reservedConcurrency === false ? undefined : { ...DEFAULT_RESERVED_CONCURRENCY, ...props.reservedConcurrency };
    const apiEnvironment = {
      ...common,
      BANG_QUEUE_URL: this.bangQueue.queue.queueUrl,
      ADMIN_TOKEN_SECRET_ARN: this.adminToken.secretArn,
    };

    this.api = new VigilFunction(this, 'Api', {
      handler: 'api',
      description: 'vigil master HTTP API for the agents (heartbeats, reports, bangs) behind its function URL',
      timeout: API_TIMEOUT,
      // agents only (issue 12): a slower cold start (~0.5 s) is harmless to them, and their calls
      // wait on DynamoDB, not the CPU: half the memory is half the compute cost (docs/cost.md)
      memorySize: 256,
      logRetention,
      removalPolicy,
      reservedConcurrentExecutions: reserved?.api,
      systemLogLevel: lambda.SystemLogLevel.WARN,
      environment: { ...apiEnvironment, VIGIL_ROUTES: 'computer' },
    });
    this.admin = new VigilFunction(this, 'Admin', {
      handler: 'api',
      service: 'admin',
      description: 'vigil master admin API and dashboard behind their function URL',
      timeout: API_TIMEOUT,
      memorySize: 512,
      logRetention,
      removalPolicy,
      reservedConcurrentExecutions: reserved?.admin,
      systemLogLevel: lambda.SystemLogLevel.WARN,
      environment: { ...apiEnvironment, VIGIL_ROUTES: 'all' },
    });
    this.fanout = new VigilFunction(this, 'Fanout', {
      handler: 'fanout',
      description: 'vigil bang fan-out: flags every partition of the tree for reprocessing',
      timeout: FANOUT_TIMEOUT,
      memorySize: 256,
      logRetention,
      removalPolicy,
      reservedConcurrentExecutions: reserved?.fanout,
      environment: common,
    });
    this.sweep = new VigilFunction(this, 'Sweep', {
      handler: 'sweep',
      description: 'vigil minute sweep: records colour changes',
      timeout: SWEEP_TIMEOUT,
      memorySize: 256,
      logRetention,
      removalPolicy,
      reservedConcurrentExecutions: reserved?.sweep,
      environment: common,
    });
    // The scheduler invokes the sweep asynchronously: Lambda itself would retry a failed
    // sweep twice and keep a throttled event for up to 6 h. A missed minute is redone by the
    // next one, so neither.
    this.sweep.fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(60) });

    // Least privilege: each function gets exactly the DynamoDB actions its code path uses.
    for (const fn of [this.api, this.admin]) {
      grantTableActions(fn.role, this.table, 'api');
      this.adminToken.grantRead(fn.role);
      this.bangQueue.queue.grantSendMessages(fn.role);
    }
    grantTableActions(this.fanout.role, this.table, 'fanout');
    grantTableActions(this.sweep.role, this.table, 'sweep');

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
    const urlOptions = { authType: lambda.FunctionUrlAuthType.NONE, invokeMode: lambda.InvokeMode.BUFFERED };
    this.functionUrl = this.api.fn.addFunctionUrl(urlOptions);
    this.adminUrl = this.admin.fn.addFunctionUrl(urlOptions);

    this.alarms = new VigilAlarms(this, 'Alarms', {
      deadLetterQueue: this.bangQueue.deadLetterQueue,
      bangQueue: this.bangQueue.queue,
      table: this.table.table,
      functions: { Api: this.api.fn, Admin: this.admin.fn, Fanout: this.fanout.fn, Sweep: this.sweep.fn },
      httpServices: ['vigil-api', 'vigil-admin'],
      throttled: { Api: this.api.fn, Admin: this.admin.fn },
      sweep: this.sweep.fn,
      email: props.alarmEmail,
    });

    // A function URL ends with '/'; the outputs do not, so `$URL/healthz` and
    // `--master $URL` work as they are (`https://<id>.lambda-url.<region>.on.aws`).
    const origin = (url: lambda.FunctionUrl) => {
      const parts = Fn.split('/', url.url);
      return Fn.join('//', [Fn.select(0, parts), Fn.select(2, parts)]);
    };
    new CfnOutput(this, 'ApiUrl', { value: origin(this.functionUrl), description: 'master URL for the agents (vigil agent/watchdog --master)' });
    new CfnOutput(this, 'AdminUrl', {
      value: origin(this.adminUrl),
      description: 'dashboard and admin API (browser, VIGIL_MASTER_URL for vigil admin)',
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

