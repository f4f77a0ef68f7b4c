// A stand-in for EventBridge's PutEvents on 127.0.0.1 (AWS JSON 1.1, X-Amz-Target
// AWSEvents.PutEvents): records every entry, accepts them, or fails them as told.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PutEntry {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Time?: number | string;
}

export interface FakeEventBridge {
  endpoint: string;
  entries: PutEntry[];
  /** 'ok' (default), 'fail-entries' (FailedEntryCount), or 'error' (HTTP 500). */
  mode: 'ok' | 'fail-entries' | 'error';
  close(): Promise<void>;
}

export function startFakeEventBridge(): Promise<FakeEventBridge> {
  const fake: FakeEventBridge = { endpoint: '', entries: [], mode: 'ok', close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (target !== 'AWSEvents.PutEvents') return json(400, { __type: 'UnknownOperationException', message: target });
      if (fake.mode === 'error') return json(500, { __type: 'InternalException', message: 'fake outage' });
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: PutEntry[] };
      if (fake.mode === 'fail-entries') {
        return json(200, { FailedEntryCount: input.Entries.length, Entries: input.Entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'fake' })) });
      }
      fake.entries.push(...input.Entries);
      return json(200, { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `fake-${fake.entries.length}-${i}` })) });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      fake.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      fake.close = () =>
        new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
      resolve(fake);
    });
  });
}
