// A keep-alive HTTP/1.1 client over node:http that can tell which TCP connection each
// request used (one socket at most per client) and bind a local source address
// (127.0.0.x on Linux), for tests of connection reuse and per-address limits.
import http from 'node:http';
import net from 'node:net';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
  /** The request went out on a connection an earlier request of this client used. */
  reused: boolean;
  /** Which connection of this client carried it (1, 2, ...). */
  connection: number;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length). */
  chunked?: boolean;
}

export class KeepAliveClient {
  readonly agent: http.Agent;
  private readonly ids = new WeakMap<net.Socket, number>();
  private connections = 0;

  constructor(
    readonly base: string,
    readonly opts: { localAddress?: string } = {},
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  }

  /** Connections opened so far. */
  get opened(): number {
    return this.connections;
  }

  request(method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...opts.headers };
      if (opts.body !== undefined && !opts.chunked) headers['content-length'] = Buffer.byteLength(opts.body);
      if (opts.chunked) headers['transfer-encoding'] = 'chunked';
      const req = http.request(`${this.base}${path}`, { method, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, reused: req.reusedSocket, connection: this.idOf(req.socket) });
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => reject(Object.assign(new Error(`${method} ${path}: ${e.code ?? e.message}`), { code: e.code })));
      if (opts.body !== undefined) {
        if (opts.chunked) {
          // several chunks, as a streaming client would send them
          const buf = Buffer.from(opts.body);
          for (let i = 0; i < buf.length; i += 64 * 1024) req.write(buf.subarray(i, i + 64 * 1024));
        } else req.write(opts.body);
      }
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private idOf(socket: net.Socket | null): number {
    if (!socket) return 0;
    let id = this.ids.get(socket);
    if (id === undefined) {
      id = ++this.connections;
      this.ids.set(socket, id);
    }
    return id;
  }
}

/**
 * Writes `payload` on one raw TCP connection and reads until `count` complete HTTP/1.1
 * responses (Content-Length framed) arrived or the server closed the connection.
 */
export function rawExchange(url: string, payload: Buffer | string, count: number, timeoutMs = 30_000): Promise<{ statuses: number[]; bodies: string[]; closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let buf = Buffer.alloc(0);
    const statuses: number[] = [];
    const bodies: string[] = [];
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw exchange: ${statuses.length} of ${count} responses after ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ statuses, bodies, closed });
    };
    const parse = () => {
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        statuses.push(status);
        bodies.push(buf.subarray(end + 4, end + 4 + length).toString('utf8'));
        buf = buf.subarray(end + 4 + length);
        if (statuses.length === count) return finish();
      }
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      parse();
    });
    socket.on('error', () => {
      closed = true;
      finish();
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('connect', () => socket.write(payload));
  });
}
