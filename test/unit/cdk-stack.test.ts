// Template assertions for the vigil stack: every resource and property issue 5 asks for.
// One synth (no esbuild bundling; the bundle is tested in test/integration) shared by the file.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { TABLE_ACCESS } from '../../lib/constructs/vigil-table.ts';
import { FANOUT_TIMEOUT } from '../../lib/vigil-stack.ts';
import { GSIS, PK, SK, TTL_ATTRIBUTE } from '../../functions/store/table.ts';
import { refId, synthVigil } from '../helpers/cloud-synth.ts';

type Res = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

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
function fnByService(service: string): [string, Res] {
  const found = ofType('AWS::Lambda::Function').filter(
    ([, r]) => r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === `vigil-${service}`,
  );
  expect(found, service).toHaveLength(1);
  return found[0]!;
}
function statementsOfRole(roleId: string): any[] {
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: unknown) => refId(r) === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}
/** Evaluates the CloudFormation intrinsics an output uses, with `Fn::GetAtt` values given. */
function evaluate(v: unknown, attrs: Record<string, string>): unknown {
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map((x) => evaluate(x, attrs));
  const o = v as Record<string, any>;
  if (o['Fn::GetAtt']) {
    const key = (o['Fn::GetAtt'] as string[]).join('.');
    if (!(key in attrs)) throw new Error(`no value for GetAtt ${key}`);
    return attrs[key];
  }
  if (o['Fn::Split']) {
    const [sep, src] = o['Fn::Split'];
    return String(evaluate(src, attrs)).split(sep);
  }
  if (o['Fn::Select']) {
    const [i, list] = o['Fn::Select'];
    return (evaluate(list, attrs) as unknown[])[Number(i)];
  }
  if (o['Fn::Join']) {
    const [sep, list] = o['Fn::Join'];
    return (evaluate(list, attrs) as unknown[]).join(sep);
  }
  throw new Error(`cannot evaluate ${JSON.stringify(v)}`);
}
function actionsOf(st: any): string[] {
  return [st.Action].flat();
}
function resourcesOf(st: any): unknown[] {
  return [st.Resource].flat();
}

beforeAll(() => {
  template = synthVigil().template;
  resources = template.toJSON().Resources;
});

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
        Projection: { ProjectionType: 'ALL' },
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
    const queues = ofType('AWS::SQS::Queue');
    expect(queues).toHaveLength(2);
    const [, main] = queues.find(([, q]) => q.Properties.RedrivePolicy)!;
    const [dlqId, dlq] = queues.find(([, q]) => !q.Properties.RedrivePolicy)!;
    expect(main.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
    expect(refId(main.Properties.RedrivePolicy.deadLetterTargetArn)).toBe(dlqId);
    for (const q of [main, dlq]) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    const [, fanout] = fnByService('fanout');
    expect(fanout.Properties.Timeout).toBe(FANOUT_TIMEOUT.toSeconds());
    // AWS guidance: at least 6 × the function timeout + the event source's batching window
    const [, esm] = one('AWS::Lambda::EventSourceMapping');
    const window = esm.Properties.MaximumBatchingWindowInSeconds ?? 0;
    expect(window).toBeGreaterThan(0);
    expect(main.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fanout.Properties.Timeout + window);
    // the dead letters stay as long as SQS allows, to be inspected and redriven
    expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('enforces TLS on both queues', () => {
    const policies = ofType('AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(2);
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
  it('are three: api, fanout, sweep — ARM64, Node 22+, ESM bundle with source maps', () => {
    expect(ofType('AWS::Lambda::Function')).toHaveLength(3);
    for (const name of ['api', 'fanout', 'sweep']) {
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
      // the api drops Lambda's START/END/REPORT lines (docs/cost.md); the others keep them
      expect(p.LoggingConfig.SystemLogLevel).toBe(name === 'api' ? 'WARN' : 'INFO');
    }
  });

  it('each logs to its own log group with a retention', () => {
    const groups = new Map(ofType('AWS::Logs::LogGroup'));
    expect(groups.size).toBe(3);
    for (const name of ['api', 'fanout', 'sweep']) {
      const [, fn] = fnByService(name);
      const group = groups.get(refId(fn.Properties.LoggingConfig.LogGroup)!);
      expect(group?.Properties.RetentionInDays).toBe(30);
    }
  });

  it('api gets the queue URL and the admin-token secret ARN; the others get only the table', () => {
    const [, api] = fnByService('api');
    const env = api.Properties.Environment.Variables;
    expect(refId(env.BANG_QUEUE_URL)).toBe(ofType('AWS::SQS::Queue').find(([, q]) => q.Properties.RedrivePolicy)![0]);
    expect(refId(env.ADMIN_TOKEN_SECRET_ARN)).toBe(one('AWS::SecretsManager::Secret')[0]);
    for (const name of ['fanout', 'sweep']) {
      const vars = fnByService(name)[1].Properties.Environment.Variables;
      expect(vars.ADMIN_TOKEN_SECRET_ARN).toBeUndefined();
      expect(vars.BANG_QUEUE_URL).toBeUndefined();
    }
  });

  it('fanout consumes the bang queue with reportBatchItemFailures', () => {
    const [, esm] = one('AWS::Lambda::EventSourceMapping');
    const [mainId] = ofType('AWS::SQS::Queue').find(([, q]) => q.Properties.RedrivePolicy)!;
    expect(refId(esm.Properties.EventSourceArn)).toBe(mainId);
    expect(refId(esm.Properties.FunctionName)).toBe(fnByService('fanout')[0]);
    expect(esm.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(esm.Properties.BatchSize).toBe(10);
  });

  it('sweep runs every minute from EventBridge Scheduler', () => {
    const [, schedule] = one('AWS::Scheduler::Schedule');
    const p = schedule.Properties;
    expect(p.ScheduleExpression).toBe('rate(1 minute)');
    expect(p.State).toBe('ENABLED');
    expect(refId(p.Target.Arn)).toBe(fnByService('sweep')[0]);
    expect(JSON.parse(p.Target.Input)).toMatchObject({ source: 'vigil.scheduler', schedule: 'minute' });
    // The scheduler role may invoke the sweep function and nothing else.
    const roleId = refId(p.Target.RoleArn)!;
    const sts = statementsOfRole(roleId);
    expect(sts.flatMap(actionsOf)).toEqual(['lambda:InvokeFunction']);
    for (const r of sts.flatMap(resourcesOf)) expect(JSON.stringify(r)).toContain(fnByService('sweep')[0]);
  });
});

describe('HTTPS front', () => {
  it('is a function URL on the api function (HTTPS only), no other front', () => {
    const [, url] = one('AWS::Lambda::Url');
    expect(refId(url.Properties.TargetFunctionArn)).toBe(fnByService('api')[0]);
    expect(url.Properties.AuthType).toBe('NONE');
    expect(ofType('AWS::ApiGatewayV2::Api')).toHaveLength(0);
    expect(ofType('AWS::ApiGateway::RestApi')).toHaveLength(0);
    // The output is the function URL without its trailing '/', so `$URL/healthz` works.
    const apiUrl = (template.toJSON().Outputs as Record<string, { Value: unknown }>).ApiUrl!.Value;
    const [urlId] = one('AWS::Lambda::Url');
    for (const [deployed, expected] of [
      ['https://abcdefghij.lambda-url.eu-west-1.on.aws/', 'https://abcdefghij.lambda-url.eu-west-1.on.aws'],
      ['http://abc.lambda-url.us-east-1.localhost.localstack.cloud:4566/', 'http://abc.lambda-url.us-east-1.localhost.localstack.cloud:4566'],
    ]) {
      expect(evaluate(apiUrl, { [`${urlId}.FunctionUrl`]: deployed! })).toBe(expected);
    }
  });

  it('public invoke permissions are limited to calls through the function URL', () => {
    const perms = ofType('AWS::Lambda::Permission');
    expect(perms.length).toBeGreaterThan(0);
    for (const [, perm] of perms) {
      expect(refId(perm.Properties.FunctionName)).toBe(fnByService('api')[0]);
      const p = perm.Properties;
      const viaUrl = p.Action === 'lambda:InvokeFunctionUrl' ? p.FunctionUrlAuthType === 'NONE' : p.InvokedViaFunctionUrl === true;
      expect(viaUrl, JSON.stringify(p)).toBe(true);
    }
  });
});

describe('least privilege', () => {
  const functionRoles = () =>
    ['api', 'fanout', 'sweep'].map((name) => [name, refId(fnByService(name)[1].Properties.Role)!] as const);

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
      const access = TABLE_ACCESS[name as keyof typeof TABLE_ACCESS];
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
    expect(TABLE_ACCESS.api.indexes.length).toBe(GSIS.length);
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

  it('only the api reads the admin token; only the fanout consumes the queue; sweep has no SQS access', () => {
    const [secretId] = one('AWS::SecretsManager::Secret');
    const byFn = Object.fromEntries(functionRoles().map(([n, r]) => [n, statementsOfRole(r)]));
    const secretSts = (n: string) => byFn[n]!.filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:')));
    expect(secretSts('api').flatMap(actionsOf).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(secretSts('api').flatMap(resourcesOf).map(refId)).toEqual([secretId]);
    expect(secretSts('fanout')).toEqual([]);
    expect(secretSts('sweep')).toEqual([]);
    const sqsActions = (n: string) => byFn[n]!.flatMap(actionsOf).filter((a) => a.startsWith('sqs:'));
    expect(sqsActions('api')).not.toContain('sqs:ReceiveMessage');
    expect(sqsActions('api')).toContain('sqs:SendMessage');
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
    const [dlqId] = ofType('AWS::SQS::Queue').find(([, q]) => !q.Properties.RedrivePolicy)!;
    const dlq = alarms.find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(dlq).toMatchObject({ Namespace: 'AWS/SQS', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(refId(dlq!.Dimensions[0].Value)).toBe(dlqId);
    const errorAlarms = alarms.filter((a) => a.MetricName === 'Errors');
    expect(errorAlarms.map((a) => refId(a.Dimensions[0].Value)).sort()).toEqual(
      ['api', 'fanout', 'sweep'].map((n) => fnByService(n)[0]).sort(),
    );
    for (const a of [dlq!, ...errorAlarms]) {
      expect(a.Threshold).toBe(0);
      expect(a.AlarmActions.map(refId)).toEqual([topicId]);
    }
  });

  it('subscribes -c vigil:alarmEmail to the topic', () => {
    const t = synthVigil({ context: { 'vigil:alarmEmail': 'ops@example.com' }, nag: false }).template;
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(ofType('AWS::SNS::Subscription')).toHaveLength(0);
  });

  it('outputs the API URL, table name, queue URL and admin-token secret ARN', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(refId(outputs.TableName?.Value)).toBe(one('AWS::DynamoDB::GlobalTable')[0]);
    expect(refId(outputs.BangQueueUrl?.Value)).toBe(ofType('AWS::SQS::Queue').find(([, q]) => q.Properties.RedrivePolicy)![0]);
    expect(refId(outputs.AdminTokenSecretArn?.Value)).toBe(one('AWS::SecretsManager::Secret')[0]);
    expect(outputs.ApiUrl).toBeDefined();
  });
});
