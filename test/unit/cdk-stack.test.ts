// Template assertions for the vigil stack: every resource and property issue 5 asks for.
// One synth (no esbuild bundling; the bundle is tested in test/integration) shared by the file.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { TABLE_ACCESS } from '../../lib/constructs/vigil-table.ts';
import { FANOUT_TIMEOUT } from '../../lib/vigil-stack.ts';
import { GSIS, PK, SK, TTL_ATTRIBUTE } from '../../functions/store/table.ts';
import { refId, synthVigil } from '../helpers/cloud-synth.ts';
import { NOTIFY_MAX_RECEIVES } from '../../functions/services/notify-wake.ts';

/** A resource of the synthesized template: its Properties are CloudFormation JSON, read as the test needs. */
type Res = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
/** An IAM policy statement. */
type Statement = { Action: string | string[]; Resource: unknown };
/** A CloudWatch alarm's metric query (alarms on several metrics). */
type MetricQuery = { MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: { Value: string }[] } } };

let template: Template;
let resources: Record<string, Res>;

function ofType(type: string): [string, Res][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}
function one(type: string): [string, Res] {
  const all = ofType(type);
  expect(all, type).toHaveLength(1);
  return all[0]!;
}
/** The bang queue and its DLQ (logical ids under the Bangs construct). */
function bangQueues(): [string, Res][] {
  return ofType('AWS::SQS::Queue').filter(([id]) => id.startsWith('Bangs'));
}
const bangQueue = () => bangQueues().find(([, q]) => q.Properties.RedrivePolicy)!;
function fnByService(service: string): [string, Res] {
  const found = ofType('AWS::Lambda::Function').filter(
    ([, r]) => r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === `vigil-${service}`,
  );
  expect(found, service).toHaveLength(1);
  return found[0]!;
}
function statementsOfRole(roleId: string): Statement[] {
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: unknown) => refId(r) === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}
/** Evaluates the CloudFormation intrinsics an output uses, with `Fn::GetAtt` values given. */
function evaluate(v: unknown, attrs: Record<string, string>): unknown {
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map((x) => evaluate(x, attrs));
  const o = v as Record<string, unknown>;
  if (o['Fn::GetAtt']) {
    const key = (o['Fn::GetAtt'] as string[]).join('.');
    if (!(key in attrs)) throw new Error(`no value for GetAtt ${key}`);
    return attrs[key];
  }
  if (o['Fn::Split']) {
    const [sep, src] = o['Fn::Split'] as [string, unknown];
    return String(evaluate(src, attrs)).split(sep);
  }
  if (o['Fn::Select']) {
    const [i, list] = o['Fn::Select'] as [string | number, unknown];
    return (evaluate(list, attrs) as unknown[])[Number(i)];
  }
  if (o['Fn::Join']) {
    const [sep, list] = o['Fn::Join'] as [string, unknown];
    return (evaluate(list, attrs) as unknown[]).join(sep);
  }
  throw new Error(`cannot evaluate ${JSON.stringify(v)}`);
}
function actionsOf(st: Statement): string[] {
  return [st.Action].flat();
}
function resourcesOf(st: Statement): unknown[] {
  return [st.Resource].flat();
}

// A synth takes a few seconds, more on a loaded machine.
beforeAll(() => {
  template = synthVigil().template;
  resources = template.toJSON().Resources;
}, 60_000);

describe('DynamoDB table', () => {
  it('mirrors functions/store/table.ts: keys, GSIs, TTL', () => {
    const [, table] = one('AWS::DynamoDB::GlobalTable');
    const p = table.Properties;
    expect(p.KeySchema).toEqual([
      { AttributeName: PK, KeyType: 'HASH' },
      { AttributeName: SK, KeyType: 'RANGE' },
    ]);
    expect(p.GlobalSecondaryIndexes).toHaveLength(GSIS.length);
    for (const g of GSIS) {
      expect(p.GlobalSecondaryIndexes).toContainEqual({
        IndexName: g.name,
        KeySchema: [
          { AttributeName: g.pk, KeyType: 'HASH' },
          { AttributeName: g.sk, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: g.projection },
      });
    }
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
  });

  it('is on-demand, with point-in-time recovery and deletion protection on by default', () => {
    const [, table] = one('AWS::DynamoDB::GlobalTable');
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    const replica = table.Properties.Replicas[0];
    expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(replica.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
    // the data outlives a `cdk destroy`: table, admin token and log groups are retained
    for (const type of ['AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
      for (const [id, r] of ofType(type)) expect(r.DeletionPolicy, id).toBe('Retain');
    }
    // encrypted at rest with the AWS-owned key (free): no customer key, no KMS request charges
    expect(table.Properties.SSESpecification?.SSEType).toBeUndefined();
    expect(ofType('AWS::KMS::Key')).toHaveLength(0);
  });

  it('turns deletion protection off with -c vigil:deletionProtection=false', () => {
    const off = synthVigil({ context: { 'vigil:deletionProtection': 'false' }, nag: false }).template;
    const [table] = Object.values(off.findResources('AWS::DynamoDB::GlobalTable')) as Res[];
    expect(table!.Properties.Replicas[0].DeletionProtectionEnabled).toBe(false);
    expect(table!.DeletionPolicy).toBe('Delete');
    for (const type of ['AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
      const all = Object.values(off.findResources(type)) as Res[];
      expect(all.length, type).toBeGreaterThan(0);
      for (const r of all) expect(r.DeletionPolicy, type).toBe('Delete');
    }
  });

  it('rejects a malformed context flag', () => {
    expect(() => synthVigil({ context: { 'vigil:deletionProtection': 'nope' }, nag: false })).toThrow(
      /vigil:deletionProtection must be true or false/,
    );
    expect(() => synthVigil({ context: { 'vigil:apiReservedConcurrency': '-3' }, nag: false })).toThrow(
      /apiReservedConcurrency must be a positive integer/,
    );
  });
});

describe('bang queue', () => {
  it('has a DLQ after 5 receives, SSE, and a visibility timeout of at least 6× the fan-out timeout', () => {
    const queues = bangQueues();
    expect(queues).toHaveLength(2);
    const [, main] = queues.find(([, q]) => q.Properties.RedrivePolicy)!;
    const [dlqId, dlq] = queues.find(([, q]) => !q.Properties.RedrivePolicy)!;
    expect(main.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(refId(main.Properties.RedrivePolicy.deadLetterTargetArn)).toBe(dlqId);
    for (const q of [main, dlq]) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    const [, fanout] = fnByService('fanout');
    expect(fanout.Properties.Timeout).toBe(FANOUT_TIMEOUT.toSeconds());
    // AWS guidance: at least 6 × the function timeout + the event source's batching window
    const [, esm] = ofType('AWS::Lambda::EventSourceMapping').find(([, e]) => refId(e.Properties.FunctionName) === fnByService('fanout')[0])!;
    const window = esm.Properties.MaximumBatchingWindowInSeconds ?? 0;
    expect(window).toBeGreaterThan(0);
    expect(main.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fanout.Properties.Timeout + window);
    // the dead letters stay as long as SQS allows, to be inspected and redriven
    expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('enforces TLS on every queue', () => {
    const policies = ofType('AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(4);
    const queueIds = ofType('AWS::SQS::Queue').map(([id]) => id);
    for (const [, p] of policies) {
      expect(queueIds).toContain(refId(p.Properties.Queues[0]));
      expect(p.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });
});

describe('Lambda functions', () => {
  it('are five: api, admin, fanout, sweep, notify — ARM64, Node 22+, ESM bundle with source maps', () => {
    expect(ofType('AWS::Lambda::Function')).toHaveLength(5);
    for (const name of ['api', 'admin', 'fanout', 'sweep', 'notify']) {
      const [, fn] = fnByService(name);
      const p = fn.Properties;
      expect(p.Architectures).toEqual(['arm64']);
      const major = Number(/^nodejs(\d+)\.x$/.exec(p.Runtime)?.[1]);
      expect(major).toBeGreaterThanOrEqual(22);
      expect(p.Handler).toBe('index.handler');
      expect(p.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(p.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe('Vigil');
      expect(refId(p.Environment.Variables.TABLE_NAME)).toBe(one('AWS::DynamoDB::GlobalTable')[0]);
      expect(p.LoggingConfig.LogFormat).toBe('JSON');
      expect(p.LoggingConfig.ApplicationLogLevel).toBe('INFO');
      // the HTTP functions drop Lambda's START/END/REPORT lines (docs/cost.md); the others keep them
      expect(p.LoggingConfig.SystemLogLevel).toBe(name === 'api' || name === 'admin' ? 'WARN' : 'INFO');
    }
  });

  it('api and admin run the same bundle; api serves only the agent routes, admin everything', () => {
    const [, api] = fnByService('api');
    const [, admin] = fnByService('admin');
    expect(api.Properties.Code).toEqual(admin.Properties.Code);
    expect(api.Properties.Environment.Variables.VIGIL_ROUTES).toBe('computer');
    expect(admin.Properties.Environment.Variables.VIGIL_ROUTES).toBe('all');
  });

  it('every function has a reserved concurrency by default (a flood of one cannot starve the others)', () => {
    const reserved = (n: string) => fnByService(n)[1].Properties.ReservedConcurrentExecutions;
    expect(['api', 'admin', 'fanout', 'sweep', 'notify'].map(reserved)).toEqual([50, 10, 5, 1, 2]);
    const custom = synthVigil({ context: { 'vigil:apiReservedConcurrency': '200', 'vigil:adminReservedConcurrency': '3' }, nag: false }).template;
    const fns = Object.values(custom.toJSON().Resources as Record<string, Res>).filter((r) => r.Type === 'AWS::Lambda::Function');
    const byService = (n: string) => fns.find((f) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === `vigil-${n}`)!;
    expect(byService('api').Properties.ReservedConcurrentExecutions).toBe(200);
    expect(byService('admin').Properties.ReservedConcurrentExecutions).toBe(3);
    const none = synthVigil({ context: { 'vigil:reservedConcurrency': 'false' }, nag: false }).template;
    for (const f of Object.values(none.toJSON().Resources as Record<string, Res>).filter((r) => r.Type === 'AWS::Lambda::Function')) {
      expect(f.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
    expect(() => synthVigil({ context: { 'vigil:apiReservedConcurrency': '0' }, nag: false })).toThrow(/vigil:apiReservedConcurrency must be a positive integer/);
  }, 60_000);

  it('each logs to its own log group with a retention', () => {
    const groups = new Map(ofType('AWS::Logs::LogGroup'));
    expect(groups.size).toBe(5);
    for (const name of ['api', 'admin', 'fanout', 'sweep', 'notify']) {
      const [, fn] = fnByService(name);
      const group = groups.get(refId(fn.Properties.LoggingConfig.LogGroup)!);
      expect(group?.Properties.RetentionInDays).toBe(30);
    }
  });

  it('api and admin get the queue URL and the admin-token secret ARN; the others get only the table', () => {
    for (const name of ['api', 'admin']) {
      const env = fnByService(name)[1].Properties.Environment.Variables;
      expect(refId(env.BANG_QUEUE_URL)).toBe(bangQueue()[0]);
      expect(refId(env.ADMIN_TOKEN_SECRET_ARN)).toBe(one('AWS::SecretsManager::Secret')[0]);
    }
    for (const name of ['fanout', 'sweep', 'notify']) {
      const vars = fnByService(name)[1].Properties.Environment.Variables;
      expect(vars.ADMIN_TOKEN_SECRET_ARN).toBeUndefined();
      expect(vars.BANG_QUEUE_URL).toBeUndefined();
    }
  });

  it('fanout consumes the bang queue with reportBatchItemFailures', () => {
    const [, esm] = ofType('AWS::Lambda::EventSourceMapping').find(([, e]) => refId(e.Properties.FunctionName) === fnByService('fanout')[0])!;
    const [mainId] = bangQueue();
    expect(refId(esm.Properties.EventSourceArn)).toBe(mainId);
    expect(refId(esm.Properties.FunctionName)).toBe(fnByService('fanout')[0]);
    expect(esm.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(esm.Properties.BatchSize).toBe(10);
  });

  it('sweep runs every minute from EventBridge Scheduler', () => {
    const [, schedule] = ofType('AWS::Scheduler::Schedule').find(([, x]) => refId(x.Properties.Target.Arn) === fnByService('sweep')[0])!;
    const p = schedule.Properties;
    expect(p.ScheduleExpression).toBe('rate(1 minute)');
    expect(p.State).toBe('ENABLED');
    expect(refId(p.Target.Arn)).toBe(fnByService('sweep')[0]);
    expect(JSON.parse(p.Target.Input)).toMatchObject({ source: 'vigil.scheduler', schedule: 'minute' });
    expect(p.Target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 0 });
    // ...and Lambda's own asynchronous retries are off too: a failed or throttled sweep is
    // never retried or kept for hours (the next minute redoes it).
    const [, invokeConfig] = ofType('AWS::Lambda::EventInvokeConfig').find(([, c]) => refId(c.Properties.FunctionName) === fnByService('sweep')[0])!;
    expect(invokeConfig.Properties).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
    // The scheduler role may invoke the sweep function and nothing else.
    const roleId = refId(p.Target.RoleArn)!;
    const sts = statementsOfRole(roleId);
    expect(sts.flatMap(actionsOf)).toEqual(['lambda:InvokeFunction']);
    for (const r of sts.flatMap(resourcesOf)) expect(JSON.stringify(r)).toContain(fnByService('sweep')[0]);
  });
});

describe('HTTPS front', () => {
  it('is a function URL on the api function and one on the admin function (HTTPS only), no other front', () => {
    const urls = ofType('AWS::Lambda::Url');
    expect(urls.map(([, u]) => refId(u.Properties.TargetFunctionArn)).sort()).toEqual([fnByService('api')[0], fnByService('admin')[0]].sort());
    for (const [, url] of urls) expect(url.Properties.AuthType).toBe('NONE');
    expect(ofType('AWS::ApiGatewayV2::Api')).toHaveLength(0);
    expect(ofType('AWS::ApiGateway::RestApi')).toHaveLength(0);
    // The outputs are the function URLs without their trailing '/', so `$URL/healthz` works.
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const [output, service] of [
      ['ApiUrl', 'api'],
      ['AdminUrl', 'admin'],
    ] as const) {
      const [urlId] = urls.find(([, u]) => refId(u.Properties.TargetFunctionArn) === fnByService(service)[0])!;
      for (const [deployed, expected] of [
        ['https://abcdefghij.lambda-url.eu-west-1.on.aws/', 'https://abcdefghij.lambda-url.eu-west-1.on.aws'],
        ['http://abc.lambda-url.us-east-1.localhost.localstack.cloud:4566/', 'http://abc.lambda-url.us-east-1.localhost.localstack.cloud:4566'],
      ]) {
        expect(evaluate(outputs[output]!.Value, { [`${urlId}.FunctionUrl`]: deployed! })).toBe(expected);
      }
    }
  });

  it('public invoke permissions are limited to calls through the function URL', () => {
    const perms = ofType('AWS::Lambda::Permission');
    expect(perms.length).toBeGreaterThan(0);
    for (const [, perm] of perms) {
      expect([fnByService('api')[0], fnByService('admin')[0]]).toContain(refId(perm.Properties.FunctionName));
      const p = perm.Properties;
      const viaUrl = p.Action === 'lambda:InvokeFunctionUrl' ? p.FunctionUrlAuthType === 'NONE' : p.InvokedViaFunctionUrl === true;
      expect(viaUrl, JSON.stringify(p)).toBe(true);
    }
  });
});

describe('least privilege', () => {
  const functionRoles = () =>
    ['api', 'admin', 'fanout', 'sweep', 'notify'].map((name) => [name, refId(fnByService(name)[1].Properties.Role)!] as const);
  /** The admin function runs the api's code: same table access. */
  const accessOf = (name: string) => TABLE_ACCESS[(name === 'admin' ? 'api' : name) as keyof typeof TABLE_ACCESS];

  it('function roles have no managed policies and no wildcard actions or resources', () => {
    for (const [name, roleId] of functionRoles()) {
      expect(resources[roleId]!.Properties.ManagedPolicyArns, name).toBeUndefined();
      for (const st of statementsOfRole(roleId)) {
        for (const a of actionsOf(st)) expect(a, name).not.toContain('*');
        for (const r of resourcesOf(st)) expect(typeof r === 'string' ? r : '', name).not.toContain('*');
      }
    }
  });

  it('DynamoDB: exactly the actions of each function, on the table and the indexes it queries, never Scan', () => {
    const [tableId] = one('AWS::DynamoDB::GlobalTable');
    for (const [name, roleId] of functionRoles()) {
      const access = accessOf(name);
      const sts = statementsOfRole(roleId).filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
      const onTable = sts.filter((st) => resourcesOf(st).some((r) => refId(r) === tableId));
      expect(new Set(onTable.flatMap(actionsOf)), name).toEqual(new Set(access.actions));
      const onIndexes = sts.filter((st) => !onTable.includes(st));
      expect(onIndexes.flatMap(actionsOf), name).toEqual(['dynamodb:Query']);
      const indexArns = onIndexes.flatMap(resourcesOf).map((r) => JSON.stringify(r));
      const indexNames = indexArns.map((a) => /\/index\/([^"]+)"/.exec(a)?.[1]);
      expect(indexNames.sort(), name).toEqual([...access.indexes].sort());
      expect(sts.flatMap(actionsOf), name).not.toContain('dynamodb:Scan');
    }
    // every index is queried by some function (none is written for nothing)
    const used = new Set(Object.values(TABLE_ACCESS).flatMap((a) => [...a.indexes]));
    expect([...used].sort()).toEqual(GSIS.map((g) => g.name).sort());
  });

  it('the api role covers every DynamoDB command the store sends (Scan is local-only TTL emulation)', () => {
    // Every module of the DynamoDB store (the SDK calls are in dynamo/table-client.ts).
    const dir = new URL('../../functions/store/dynamo/', import.meta.url);
    const src = [new URL('../../functions/store/dynamo.ts', import.meta.url), ...readdirSync(dir).map((f) => new URL(f, dir))]
      .map((u) => readFileSync(u, 'utf8'))
      .join('\n');
    const used = new Set([...src.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(3);
    const toAction: Record<string, string> = {
      Get: 'GetItem',
      Put: 'PutItem',
      Update: 'UpdateItem',
      Delete: 'DeleteItem',
      Query: 'Query',
      BatchGet: 'BatchGetItem',
      BatchWrite: 'BatchWriteItem',
      TransactWrite: 'TransactWriteItems',
      TransactGet: 'TransactGetItems',
      Scan: 'Scan',
    };
    // expireItems (a Scan) only runs in the local master: DynamoDB TTL does it in AWS.
    expect(src).toMatch(/Local emulation of DynamoDB TTL|expireItems/);
    for (const cmd of used) {
      if (cmd === 'Scan') continue;
      const action = toAction[cmd];
      expect(action, `unknown command ${cmd}Command`).toBeDefined();
      expect(TABLE_ACCESS.api.actions as readonly string[], cmd).toContain(`dynamodb:${action}`);
    }
  });

  it('only the api reads the admin token; only the fanout consumes the bang queue; the sweep only wakes the notify queue', () => {
    const [secretId] = one('AWS::SecretsManager::Secret');
    const byFn = Object.fromEntries(functionRoles().map(([n, r]) => [n, statementsOfRole(r)]));
    const secretSts = (n: string) => byFn[n]!.filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:')));
    for (const http of ['api', 'admin']) {
      expect(secretSts(http).flatMap(actionsOf).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      expect(secretSts(http).flatMap(resourcesOf).map(refId)).toEqual([secretId]);
    }
    for (const n of ['fanout', 'sweep', 'notify']) expect(secretSts(n)).toEqual([]);
    const bangQueueId = bangQueue()[0];
    const onBangQueue = (st: Statement) => resourcesOf(st).some((r) => refId(r) === bangQueueId);
    const sqsActions = (n: string) => byFn[n]!.filter(onBangQueue).flatMap(actionsOf).filter((a) => a.startsWith('sqs:'));
    for (const http of ['api', 'admin']) {
      expect(sqsActions(http)).not.toContain('sqs:ReceiveMessage');
      expect(sqsActions(http)).toContain('sqs:SendMessage');
    }
    expect(sqsActions('fanout')).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
    expect(sqsActions('fanout')).not.toContain('sqs:SendMessage');
    expect(sqsActions('sweep')).toEqual([]);
  });

  it('each function may write only to its own log group', () => {
    for (const [name, roleId] of functionRoles()) {
      const [, fn] = fnByService(name);
      const logSts = statementsOfRole(roleId).filter((st) => actionsOf(st).some((a) => a.startsWith('logs:')));
      expect(logSts.flatMap(actionsOf).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(logSts.flatMap(resourcesOf).map(refId)).toEqual([refId(fn.Properties.LoggingConfig.LogGroup)]);
    }
  });
});

describe('admin token, alarms, outputs', () => {
  it('generates the admin token in Secrets Manager', () => {
    const [, secret] = one('AWS::SecretsManager::Secret');
    expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 48, ExcludePunctuation: true });
    expect(secret.Properties.SecretString).toBeUndefined();
  });

  it('alarms on DLQ depth > 0 and on errors of each function, to an SNS topic with TLS enforced', () => {
    const [topicId] = one('AWS::SNS::Topic');
    const [, topicPolicy] = one('AWS::SNS::TopicPolicy');
    expect(topicPolicy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const [dlqId] = bangQueues().find(([, q]) => !q.Properties.RedrivePolicy)!;
    const dlq = alarms.find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && refId(a.Dimensions[0].Value) === dlqId);
    expect(dlq).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(refId(dlq!.Dimensions[0].Value)).toBe(dlqId);
    const errorAlarms = alarms.filter((a) => a.MetricName === 'Errors');
    expect(errorAlarms.map((a) => refId(a.Dimensions[0].Value)).sort()).toEqual(
      ['api', 'admin', 'fanout', 'sweep', 'notify'].map((n) => fnByService(n)[0]).sort(),
    );
    for (const a of [dlq!, ...errorAlarms]) {
      expect(a.Threshold).toBe(0);
      expect(a.AlarmActions.map(refId)).toEqual([topicId]);
    }
  });

  it('alarms on api 5xx answers, the sweep not running, bang age, throttles of the HTTP functions and of DynamoDB', () => {
    const [topicId] = one('AWS::SNS::Topic');
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const metricsOf = (a: Res['Properties']) => ((a.Metrics ?? []) as MetricQuery[]).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    // 5xx: the app's own metric (the handler returns 500, Lambda's Errors never sees it), both HTTP functions.
    const server = alarms.find((a) => metricsOf(a).some((m) => m.MetricName === 'ApiServerErrors'))!;
    expect(metricsOf(server).map((m) => [m.Namespace, m.Dimensions[0]?.Value]).sort()).toEqual([
      ['Vigil', 'vigil-admin'],
      ['Vigil', 'vigil-api'],
    ]);
    expect(server).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    // The sweep: fewer than one invocation in 10 minutes, no data counts as breaching.
    const sweep = alarms.find((a) => a.MetricName === 'Invocations')!;
    expect(refId(sweep.Dimensions[0].Value)).toBe(fnByService('sweep')[0]);
    expect(sweep).toMatchObject({ Period: 600, Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
    const age = alarms.find((a) => a.MetricName === 'ApproximateAgeOfOldestMessage')!;
    expect(refId(age.Dimensions[0].Value)).toBe(bangQueue()[0]);
    expect(age.Threshold).toBe(300);
    const throttles = alarms.filter((a) => a.MetricName === 'Throttles').map((a) => refId(a.Dimensions[0].Value));
    expect(throttles.sort()).toEqual([fnByService('api')[0], fnByService('admin')[0]].sort());
    const table = alarms.find((a) => metricsOf(a).some((m) => m.MetricName === 'WriteThrottleEvents'))!;
    expect(metricsOf(table).map((m) => m.MetricName).sort()).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
    for (const a of [server, sweep, age, table]) expect(a.AlarmActions.map(refId)).toEqual([topicId]);
  });

  it('subscribes -c vigil:alarmEmail to the topic', () => {
    const t = synthVigil({ context: { 'vigil:alarmEmail': 'ops@example.com' }, nag: false }).template;
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(ofType('AWS::SNS::Subscription')).toHaveLength(0);
  });

  it('outputs the API URL, table name, queue URL and admin-token secret ARN', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(refId(outputs.TableName?.Value)).toBe(one('AWS::DynamoDB::GlobalTable')[0]);
    expect(refId(outputs.BangQueueUrl?.Value)).toBe(bangQueue()[0]);
    expect(refId(outputs.AdminTokenSecretArn?.Value)).toBe(one('AWS::SecretsManager::Secret')[0]);
    expect(outputs.ApiUrl).toBeDefined();
    expect(outputs.AdminUrl).toBeDefined();
  });
});

describe('notifications', () => {
  const notifyQueue = () => ofType('AWS::SQS::Queue').find(([id, q]) => id.startsWith('Notify') && q.Properties.RedrivePolicy)!;
  const busId = () => one('AWS::Events::EventBus')[0];

  it('the notify function consumes its queue (partial batch failures), dead-lettered after 5 receives', () => {
    const [queueId, queue] = notifyQueue();
    const [dlqId, dlq] = ofType('AWS::SQS::Queue').find(([id, q]) => id.startsWith('Notify') && !q.Properties.RedrivePolicy)!;
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(NOTIFY_MAX_RECEIVES);
    expect(refId(queue.Properties.RedrivePolicy.deadLetterTargetArn)).toBe(dlqId);
    for (const q of [queue, dlq]) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    const [fnId, fn] = fnByService('notify');
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Properties.Timeout);
    const [, esm] = ofType('AWS::Lambda::EventSourceMapping').find(([, e]) => refId(e.Properties.FunctionName) === fnId)!;
    expect(refId(esm.Properties.EventSourceArn)).toBe(queueId);
    expect(esm.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    const env = fn.Properties.Environment.Variables;
    expect(refId(env.NOTIFY_QUEUE_URL)).toBe(queueId);
    expect(refId(env.EVENT_BUS_NAME)).toBe(busId());
  });

  it('runs every minute from the scheduler, never retried', () => {
    const [fnId] = fnByService('notify');
    const [, schedule] = ofType('AWS::Scheduler::Schedule').find(([, x]) => refId(x.Properties.Target.Arn) === fnId)!;
    expect(schedule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(schedule.Properties.Target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 0 });
    const sts = statementsOfRole(refId(schedule.Properties.Target.RoleArn)!);
    expect(sts.flatMap(actionsOf)).toEqual(['lambda:InvokeFunction']);
    for (const r of sts.flatMap(resourcesOf)) expect(JSON.stringify(r)).toContain(fnId);
  });

  it('publishers get the notify queue (send only) and the dashboard URL for links; events:PutEvents on the bus only, by the notify function', () => {
    const [queueId] = notifyQueue();
    const [adminUrlId] = ofType('AWS::Lambda::Url').find(([, u]) => refId(u.Properties.TargetFunctionArn) === fnByService('admin')[0])!;
    for (const name of ['api', 'admin', 'fanout', 'sweep']) {
      const [, fn] = fnByService(name);
      const env = fn.Properties.Environment.Variables;
      expect(refId(env.NOTIFY_QUEUE_URL), name).toBe(queueId);
      const sts = statementsOfRole(refId(fn.Properties.Role)!).filter((st) => resourcesOf(st).some((r) => refId(r) === queueId));
      expect(sts.flatMap(actionsOf).sort(), name).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
      // links to the admin URL (the admin function takes its own host from the request)
      if (name === 'admin') expect(env.VIGIL_PUBLIC_URL).toBeUndefined();
      else expect(JSON.stringify(env.VIGIL_PUBLIC_URL)).toContain(adminUrlId);
    }
    const putEvents = ofType('AWS::IAM::Policy').flatMap(([, p]) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).filter((st) => actionsOf(st).includes('events:PutEvents')).map((st) => ({ st, roles: p.Properties.Roles.map(refId) })),
    );
    expect(putEvents).toHaveLength(1);
    expect(putEvents[0]!.roles).toEqual([refId(fnByService('notify')[1].Properties.Role)]);
    expect(resourcesOf(putEvents[0]!.st).map((r) => refId(r))).toEqual([busId()]);
    const custom = synthVigil({ context: { 'vigil:publicUrl': 'https://vigil.example.com' }, nag: false }).template.toJSON().Resources as Record<string, Res>;
    for (const f of Object.values(custom).filter((r) => r.Type === 'AWS::Lambda::Function')) {
      expect(f.Properties.Environment.Variables.VIGIL_PUBLIC_URL).toBe('https://vigil.example.com');
    }
  });

  it('alarms: notify errors, its DLQ, dead deliveries', () => {
    const [topicId] = one('AWS::SNS::Topic');
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const [dlqId] = ofType('AWS::SQS::Queue').find(([id, q]) => id.startsWith('Notify') && !q.Properties.RedrivePolicy)!;
    const dlq = alarms.find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && refId(a.Dimensions[0].Value) === dlqId)!;
    const errors = alarms.find((a) => a.MetricName === 'Errors' && refId(a.Dimensions[0].Value) === fnByService('notify')[0])!;
    const dead = alarms.find((a) => a.MetricName === 'DeadDeliveries')!;
    expect(dead).toMatchObject({ Namespace: 'Vigil', Dimensions: [{ Name: 'service', Value: 'vigil-notify' }] });
    for (const a of [dlq, errors, dead]) {
      expect(a).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      expect(a.AlarmActions.map(refId)).toEqual([topicId]);
    }
  });

  it('-c vigil:notifyEmail: a bus rule to an encrypted, TLS-only topic with the address subscribed (cdk-nag clean)', () => {
    const t = synthVigil({ context: { 'vigil:notifyEmail': 'ops@example.com' } }).template; // nag on
    const res = t.toJSON().Resources as Record<string, Res>;
    const sub = Object.values(res).find((r) => r.Type === 'AWS::SNS::Subscription')!;
    expect(sub.Properties).toMatchObject({ Protocol: 'email', Endpoint: 'ops@example.com' });
    const topicId = refId(sub.Properties.TopicArn)!;
    expect(refId(res[topicId]!.Properties.KmsMasterKeyId)).toBeDefined();
    const key = res[refId(res[topicId]!.Properties.KmsMasterKeyId)!]!;
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(JSON.stringify(key.Properties.KeyPolicy)).toContain('events.amazonaws.com');
    const policy = Object.values(res).find((r) => r.Type === 'AWS::SNS::TopicPolicy' && refId(r.Properties.Topics[0]) === topicId)!;
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    const rule = Object.values(res).find((r) => r.Type === 'AWS::Events::Rule')!;
    expect(rule.Properties.EventPattern).toEqual({ source: ['vigil'] });
    expect(refId(rule.Properties.EventBusName)).toBeDefined();
    expect(rule.Properties.Targets.map((x: { Arn: unknown }) => refId(x.Arn))).toEqual([topicId]);
    // without the flag: no rule, no key
    expect(ofType('AWS::Events::Rule')).toHaveLength(0);
    expect(ofType('AWS::KMS::Key')).toHaveLength(0);
  }, 60_000);

  it('outputs the bus name', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(refId(outputs.EventBusName?.Value)).toBe(busId());
  });
});
