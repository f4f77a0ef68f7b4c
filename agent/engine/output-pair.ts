// One connected socket pair to give a child process as both its stdout and its stderr, so
// what it writes arrives in the order written (`o1 e2 o3 e4`), as with the reference's
// `stderr=STDOUT`. Node cannot create a pipe, and gives a child two separate socket pairs
// for 'pipe' stdio: reading two streams loses the interleaving.
//
// How: a unix-socket server of this process (abstract name on Linux, else a file in the temp
// dir) accepts a connection per child; the client end is handed to the child (Node dups its
// fd into fds 1 and 2) and closed here, the accepted end is read. The client first sends a
// random id so the accepted end is matched to its client whatever the accept order.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ID_LENGTH = 16; // hex characters
const PAIR_TIMEOUT_MS = 5_000;

let server: Server | undefined;
let address: Promise<string> | undefined;
const waiting = new Map<string, (reader: Socket) => void>();

function onConnection(socket: Socket): void {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    if (head.length < ID_LENGTH) return;
    socket.off('data', onData);
    socket.pause();
    const id = head.subarray(0, ID_LENGTH).toString('latin1');
    const rest = head.subarray(ID_LENGTH);
    if (rest.length > 0) socket.unshift(rest);
    const give = waiting.get(id);
    if (give) {
      waiting.delete(id);
      give(socket);
    } else socket.destroy();
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
}

function listen(): Promise<string> {
  if (address) return address;
  const path =
    process.platform === 'linux'
      ? `\0vigil-output-${process.pid}-${randomBytes(6).toString('hex')}`
      : join(tmpdir(), `vigil-output-${process.pid}-${randomBytes(6).toString('hex')}.sock`);
  const s = createServer(onConnection);
  server = s;
  address = new Promise<string>((resolve, reject) => {
    s.once('error', reject);
    s.listen(path, () => {
      s.off('error', reject);
      s.unref(); // never keeps the process alive by itself
      if (!path.startsWith('\0')) process.once('exit', () => rmSync(path, { force: true }));
      resolve(path);
    });
  });
  address.catch(() => {
    address = undefined;
    server = undefined;
  });
  return address;
}

/**
 * A connected pair: give `writer` to the child as stdout and stderr (then destroy it here),
 * read `reader`. Rejects (the caller falls back to two pipes) when no pair can be made.
 */
export async function outputPair(): Promise<{ writer: Socket; reader: Socket }> {
  const path = await listen();
  const id = randomBytes(ID_LENGTH / 2).toString('hex');
  let timer: NodeJS.Timeout | undefined;
  const accepted = new Promise<Socket>((resolve, reject) => {
    waiting.set(id, resolve);
    timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('output socket pair: no connection'));
    }, PAIR_TIMEOUT_MS);
  });
  accepted.catch(() => {});
  const writer = connect({ path });
  try {
    await new Promise<void>((resolve, reject) => {
      writer.once('error', reject);
      writer.once('connect', () => {
        writer.write(id, 'latin1', (err) => (err ? reject(err) : resolve()));
      });
    });
    const reader = await accepted;
    writer.removeAllListeners('error');
    return { writer, reader };
  } catch (err) {
    writer.destroy();
    waiting.delete(id);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Closes the server (tests). */
export function closeOutputServer(): void {
  server?.close();
  server = undefined;
  address = undefined;
}
