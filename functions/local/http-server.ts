// The local master's HTTP/1.1 server: @hono/node-server's request listener behind a body
// reader that owns every request body, so that an error answer never poisons a keep-alive
// connection (SPEC §3: "a client that got an error (413 included) can send its next
// request on the same connection").
//
// @hono/node-server leaves a body the app did not read (a 413 from the body limit, a 404,
// a route that answers before reading) to a drain that gives up after 500 ms and destroys
// the socket: the next request on that connection fails ("other side closed"). Here the
// body is read before the app runs and handed to it as `incoming.rawBody` (which the
// adapter uses instead of the stream):
//  - up to BODY_LIMIT_BYTES it is kept and the app sees it as usual;
//  - over it, the rest is read and discarded up to DISCARD_LIMIT_BYTES, then 413 with the
//    connection kept alive;
//  - a declared Content-Length over DISCARD_LIMIT_BYTES (or a chunked body that grows over
//    it) is answered 413 at once with `Connection: close`, and the connection is closed
//    cleanly: our side is ended after the answer and what the client still sends is read
//    and dropped for up to LINGER_MS, so the client reads its 413 instead of a reset.
// Once read, a request runs through the admission gate (admission.ts): a few ordinary
// requests at a time, heartbeats and bangs at once.
import http from 'node:http';
import type { Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { BODY_LIMIT_BYTES } from '../../protocol/index.ts';
import { createGate, type Gate, isPriorityRequest } from './admission.ts';

/** How much of an over-limit body is read and dropped to keep the connection alive. */
export const DISCARD_LIMIT_BYTES = 4 * BODY_LIMIT_BYTES;
/** How long a connection closed after a 413 keeps draining what the client still sends. */
export const LINGER_MS = 5_000;

const TOO_LARGE = JSON.stringify({ error: 'payload_too_large', message: `body over ${BODY_LIMIT_BYTES / 1024} KiB` });

type Fetch = Parameters<typeof getRequestListener>[0];

export interface MasterServerOptions {
  fetch: Fetch;
  bodyLimit?: number;
  discardLimit?: number;
  lingerMs?: number;
  /** The admission gate (default: createGate(), ADMIT_CONCURRENT ordinary requests at a time). */
  gate?: Gate;
}

/** Ends our side, keeps reading (and dropping) the client's bytes, destroys after `ms`. */
function closeAfterLinger(socket: Socket, ms: number): void {
  // Node's server calls destroySoon() once a `Connection: close` answer is written; a
  // destroy with unread input sends a TCP reset that can overtake the answer.
  socket.destroySoon = function lingeringClose(this: Socket) {
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), ms);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    this.once('end', () => this.destroy());
    this.resume();
  };
}

/** 413 as the app words it; `lingerMs` set: with `Connection: close` and a clean close. */
function tooLarge(res: http.ServerResponse, lingerMs: number | null): void {
  if (res.headersSent || res.destroyed) return;
  if (lingerMs !== null && res.socket) closeAfterLinger(res.socket, lingerMs);
  res.writeHead(413, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(TOO_LARGE),
    ...(lingerMs !== null ? { connection: 'close' } : {}),
  });
  res.end(TOO_LARGE);
}

function declaredLength(req: http.IncomingMessage): number | null {
  const v = req.headers['content-length'];
  return v !== undefined && req.headers['transfer-encoding'] === undefined && /^\d+$/.test(v) ? Number(v) : null;
}

/** An http.Server running the Hono app `fetch` with the body handling above. */
export function createMasterServer(opts: MasterServerOptions): http.Server {
  const limit = opts.bodyLimit ?? BODY_LIMIT_BYTES;
  const discardLimit = Math.max(limit, opts.discardLimit ?? DISCARD_LIMIT_BYTES);
  const lingerMs = opts.lingerMs ?? LINGER_MS;
  const listener = getRequestListener(opts.fetch);
  const gate = opts.gate ?? createGate();
  /** Runs the app on a read request through the gate; its slot is freed when the answer is done (or the connection closed). */
  const run = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    gate.admit(
      isPriorityRequest(req.method, req.url),
      () =>
        new Promise<void>((done) => {
          res.once('close', () => done());
          listener(req, res).catch(() => done());
        }),
      () => res.destroyed || socket.destroyed,
    );
  };

  const tooLargeNow = (res: http.ServerResponse) => tooLarge(res, lingerMs);

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const declared = declaredLength(req);
    if (declared !== null && declared > discardLimit) {
      tooLargeNow(res);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (chunks.length) chunks.length = 0;
      if (size > discardLimit) {
        done = true;
        tooLargeNow(res);
      }
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      if (size > limit) return tooLarge(res, null);
      (req as http.IncomingMessage & { rawBody?: Buffer }).rawBody = Buffer.concat(chunks, size);
      run(req, res);
    });
    // A client that goes away mid-body gets no answer; Node closes its socket.
    req.on('error', () => {
      done = true;
    });
  };

  const server = http.createServer(handle);
  // `Expect: 100-continue`: refuse a declared over-limit body before the client sends it.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const declared = declaredLength(req);
    if (declared !== null && declared > limit) return tooLargeNow(res);
    res.writeContinue();
    handle(req, res);
  });
  return server;
}
