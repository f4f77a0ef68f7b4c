// A real HTTP receiver on 127.0.0.1 for notification tests: records every request with its
// raw body bytes and headers, and answers as told — a status (with headers and body), a
// slow answer, a hang, a closed or reset socket, an endless body.
import { type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Socket } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The bytes as they arrived. */
  rawBody: Buffer;
  receivedAt: number;
}

export type Behaviour =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  /** Headers sent at once, then body chunks forever (until the client goes away). */
  | { kind: 'stream'; status: number; chunk?: string }
  /** Reads the request, never answers. */
  | { kind: 'hang' }
  /** Reads the request, then ends the connection without an answer (FIN). */
  | { kind: 'close' }
  /** Reads the request, then resets the connection (RST). */
  | { kind: 'reset' };

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** The behaviour of the next requests (default: 200, empty body). */
  behave(b: Behaviour | ((req: ReceivedRequest, index: number) => Behaviour)): void;
  /** Resolves when at least n requests arrived (rejects after `timeoutMs`). */
  waitForRequests(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(initial: Behaviour = { kind: 'status', status: 200 }): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  let behaviour: Behaviour | ((req: ReceivedRequest, index: number) => Behaviour) = initial;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const waiters: { n: number; resolve: () => void }[] = [];

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawBody: Buffer.concat(chunks),
        receivedAt: Date.now(),
      };
      const index = requests.length;
      requests.push(rec);
      for (const w of [...waiters]) {
        if (requests.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      const b = typeof behaviour === 'function' ? behaviour(rec, index) : behaviour;
      switch (b.kind) {
        case 'status': {
          const answer = () => {
            if (res.destroyed) return;
            res.writeHead(b.status, { 'content-type': 'text/plain', ...(b.headers ?? {}) });
            res.end(b.body ?? '');
          };
          if (b.delayMs) later(b.delayMs, answer);
          else answer();
          return;
        }
        case 'stream': {
          res.writeHead(b.status, { 'content-type': 'text/plain' });
          const chunk = b.chunk ?? 'x'.repeat(16 * 1024);
          const pump = () => {
            while (!res.destroyed && res.write(chunk)) {
              /* fill the buffer */
            }
            if (!res.destroyed) res.once('drain', pump);
          };
          res.on('close', () => res.removeAllListeners('drain'));
          pump();
          return;
        }
        case 'hang':
          return;
        case 'close':
          req.socket.end();
          return;
        case 'reset':
          req.socket.resetAndDestroy();
          return;
      }
    });
  };

  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    behave(b) {
      behaviour = b;
    },
    waitForRequests(n, timeoutMs = 30_000) {
      if (requests.length >= n) return Promise.resolve(requests.slice());
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`receiver: ${requests.length} of ${n} requests after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve(requests.slice());
          },
        });
      });
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
