// Real Lambda event shapes for the handler tests: API Gateway HTTP API (payload 2.0) and
// Lambda function URL requests (the same 2.0 format, different requestContext), SQS batches
// as the event source mapping delivers them, and EventBridge Scheduler inputs.
import { randomUUID } from 'node:crypto';
import { ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

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

/** What one poll of the event source mapping did. */
export interface PollResult {
  received: number;
  response?: SQSBatchResponse;
  threw?: unknown;
}

/**
 * One poll of a Lambda event source mapping on a real queue: receive up to 10 messages,
 * invoke the handler with them as an SQS batch, delete what succeeded (all of the batch is
 * failed when the handler throws), and make the failed ones visible again at once (a
 * stand-in for the visibility timeout running out).
 */
export async function pollEventSource(q: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | unknown>;
  functionName: string;
}): Promise<PollResult> {
  const { sqs, queueUrl } = q;
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }));
  const messages = got.Messages ?? [];
  if (messages.length === 0) return { received: 0 };
  let response: SQSBatchResponse | undefined;
  let threw: unknown;
  try {
    response = (await q.handler(sqsEvent(messages.map((m) => sqsRecord(m, q.queueArn))), lambdaContext(q.functionName))) as SQSBatchResponse;
  } catch (err) {
    threw = err; // the whole batch failed
  }
  const failed = new Set(threw ? messages.map((m) => m.MessageId) : (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  const done = messages.filter((m) => !failed.has(m.MessageId));
  if (done.length > 0) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  for (const m of messages.filter((x) => failed.has(x.MessageId))) {
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
  }
  return { received: messages.length, ...(response ? { response } : {}), ...(threw ? { threw } : {}) };
}
