// One port in front of several AWS-compatible emulators, the way LocalStack's edge port
// (:4566) serves every service: a request goes to DynamoDB, SQS or Secrets Manager by its
// `X-Amz-Target` header (AWS JSON protocols). SQS queue URLs of the AWS form
// (`https://sqs.<region>.amazonaws.com/<account>/<name>`, what a deployed stack hands its
// functions) are rewritten to the emulator's own URL of that queue, as LocalStack accepts
// them. Every request is recorded by service and operation.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EdgeTargets {
  dynamodb: string;
  sqs: string;
  secretsmanager: string;
  /** EventBridge (test/helpers/eventbridge.ts), when a test needs it. */
  events?: string;
  /** AWS-form queue URL → the emulator's URL of the same queue. */
  queueUrls?: Record<string, string>;
}

export interface Edge {
  endpoint: string;
  /** `service operation`, in order, e.g. `sqs SendMessage`. */
  calls: string[];
  close(): Promise<void>;
}

const SERVICE_BY_TARGET: [RegExp, keyof Omit<EdgeTargets, 'queueUrls'>][] = [
  [/^DynamoDB_\d+\.(\w+)$/, 'dynamodb'],
  [/^AmazonSQS\.(\w+)$/, 'sqs'],
  [/^secretsmanager\.(\w+)$/, 'secretsmanager'],
  [/^AWSEvents\.(\w+)$/, 'events'],
];

export function startEdge(targets: EdgeTargets): Promise<Edge> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const hit = SERVICE_BY_TARGET.map(([re, service]) => [re.exec(target), service] as const).find(([m]) => m);
      if (!hit) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `edge: no service for X-Amz-Target '${target}'` }));
        return;
      }
      const [match, service] = hit;
      calls.push(`${service} ${match?.[1]}`);
      let body = Buffer.concat(chunks);
      if (service === 'sqs' && targets.queueUrls) {
        let text = body.toString('utf8');
        for (const [aws, local] of Object.entries(targets.queueUrls)) text = text.split(JSON.stringify(aws).slice(1, -1)).join(JSON.stringify(local).slice(1, -1));
        body = Buffer.from(text);
      }
      const upstream = targets[service];
      if (!upstream) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `edge: no ${service} endpoint configured` }));
        return;
      }
      const to = new URL(upstream);
      const headers = { ...req.headers, host: to.host, 'content-length': String(body.length) };
      const up = httpRequest({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', (err) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `edge: ${service} unreachable: ${err.message}` }));
      });
      up.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        calls,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
