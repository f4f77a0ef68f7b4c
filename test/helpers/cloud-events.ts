// Real Lambda event shapes for the handler tests: API Gateway HTTP API (payload 2.0) and
// Lambda function URL requests (the same 2.0 format, different requestContext), SQS batches
// as the event source mapping delivers them, and EventBridge Scheduler inputs.
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

export interface HttpRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | object;
  /** Send the body base64-encoded, as API Gateway/function URLs do for non-text types. */
  base64?: boolean;
  cookies?: string[];
  /** The client's address as the front saw it (requestContext.http.sourceIp). */
  sourceIp?: string;
}

function common(req: HttpRequest) {
  const headers: Record<string, string> = { 'user-agent': 'vigil-test', ...lower(req.headers ?? {}) };
  let body: string | undefined;
  if (req.body !== undefined) {
    body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    headers['content-type'] ??= 'application/json';
  }
  const rawQueryString = new URLSearchParams(req.query ?? {}).toString();
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: req.path,
    rawQueryString,
    ...(req.cookies ? { cookies: req.cookies } : {}),
    headers,
    ...(req.query ? { queryStringParameters: req.query } : {}),
    ...(body === undefined
      ? { isBase64Encoded: false }
      : req.base64
        ? { body: Buffer.from(body).toString('base64'), isBase64Encoded: true }
        : { body, isBase64Encoded: false }),
    _http: {
      method: req.method.toUpperCase(),
      path: req.path,
      protocol: 'HTTP/1.1',
      sourceIp: req.sourceIp ?? '203.0.113.7',
      userAgent: headers['user-agent'],
    },
    _time: now,
  };
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** An API Gateway HTTP API (payload format 2.0) event. */
export function apiGatewayV2Event(req: HttpRequest) {
  const { _http, _time, ...rest } = common(req);
  const domainName = 'abc123def4.execute-api.eu-west-1.amazonaws.com';
  return {
    ...rest,
    headers: { host: domainName, 'x-forwarded-proto': 'https', 'x-forwarded-port': '443', ...rest.headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123def4',
      domainName,
      domainPrefix: 'abc123def4',
      http: _http,
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: _time.toUTCString(),
      timeEpoch: _time.getTime(),
    },
  };
}

/** A Lambda function URL event (payload 2.0; accountId "anonymous" when AuthType NONE). */
export function functionUrlEvent(req: HttpRequest) {
  const { _http, _time, ...rest } = common(req);
  const urlId = 'a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6';
  const domainName = `${urlId}.lambda-url.eu-west-1.on.aws`;
  return {
    ...rest,
    headers: { host: domainName, 'x-forwarded-proto': 'https', 'x-forwarded-port': '443', ...rest.headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: urlId,
      domainName,
      domainPrefix: urlId,
      http: _http,
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: _time.toUTCString(),
      timeEpoch: _time.getTime(),
    },
  };
}

/** An SQS record as the Lambda event source mapping builds it from a received message. */
export function sqsRecord(m: { MessageId?: string; ReceiptHandle?: string; Body?: string; Attributes?: Record<string, string>; MD5OfBody?: string }, queueArn: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? randomUUID(),
    receiptHandle: m.ReceiptHandle ?? randomUUID(),
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'AROAEXAMPLE',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'eu-west-1',
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** The input our EventBridge Scheduler schedule sends (lib/vigil-stack.ts). */
export function schedulerEvent(scheduledTime: Date) {
  return { source: 'vigil.scheduler', schedule: 'minute', scheduledTime: scheduledTime.toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

export function lambdaContext(functionName = 'vigil-test'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2025/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 10_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
