// The local master's embedded DynamoDB-compatible store: dynalite on LevelDB (classic-level)
// in <data dir>/db, made to survive its disk (issue 10).
//
// dynalite throws any LevelDB error it gets from a write out of a callback: one
// `LEVEL_IO_ERROR: No space left on device` was an uncaught exception that ended the whole
// master. Here the LevelDB handle dynalite opened is wrapped so that such errors become
// DynamoDB `InternalServerError` answers (HTTP 500 from the emulator, retried by the SDK,
// then answered 503 `unavailable` by the app, see functions/store/errors.ts); reads go on
// working while writes fail. After a failed write no other write reaches LevelDB (one
// appended after a torn log record would be dropped when the store is next opened: an
// acknowledged report lost) until the handle is closed and reopened, which happens as soon
// as there is room again (REOPEN_MIN_FREE_BYTES, checked every second; at most every
// REOPEN_INTERVAL_MS). LevelDB itself also keeps refusing writes after a failed background
// compaction until it is reopened. What was acknowledged is on disk and comes back.
//
// Start-up checks the data dir first (a directory, writable, room for a small write) and
// opens the store explicitly, so an unusable data dir is one StartupError line.
//
// Every Query and Scan closes its LevelDB iterator (issue 12, fleet bench). dynalite 4 turns
// abstract-level iterators into streams and ends them with `iterator.return()`, which
// abstract-level 3 iterators do not have (they have `close()`): no iterator was ever closed.
// Each stayed in the database's open resources, and LevelDB kept the data it could see
// (memtables, table versions) alive for it: the master's memory grew with every list read
// and every write after it (4.4 GB after registering 100,000 partitions through the API).
// Here each iterator gets a `return()` that closes it.
import { closeSync, fsyncSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { accessSync, constants, statfsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

/** A start-up failure told in one line (the CLI prints only its message). */
export class StartupError extends Error {
  override name = 'StartupError';
}

export const REOPEN_MIN_FREE_BYTES = 1024 * 1024;
export const REOPEN_INTERVAL_MS = 5_000;
const CHECK_INTERVAL_MS = 1_000;

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'not a directory',
  EEXIST: 'not a directory',
  EIO: 'input/output error',
};

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text = e?.code ? ERRNO_TEXT[e.code] : undefined;
  return text ? `${text} (${e.code})` : String(e?.message ?? err);
}

/** Throws a StartupError naming what makes `dataDir` unusable: not a directory, read-only, full. */
export function checkDataDir(dataDir: string): void {
  const fail = (what: string): never => {
    throw new StartupError(`data dir ${dataDir}: ${what}`);
  };
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') fail(errnoText(err));
  }
  if (st && !st.isDirectory()) fail('not a directory');
  if (!st) {
    // the deepest existing parent tells why a mkdir fails (Node says ENOENT on a read-only fs)
    let parent = dirname(dataDir);
    while (parent !== dirname(parent)) {
      try {
        if (!statSync(parent).isDirectory()) fail(`not a directory (${parent})`);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        parent = dirname(parent);
      }
    }
    try {
      accessSync(parent, constants.W_OK);
      mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      if (err instanceof StartupError) throw err;
      fail(errnoText(err));
    }
  }
  // a real write, flushed: catches read-only mounts (also for root) and full disks
  const probe = join(dataDir, `.vigil-write-test-${process.pid}`);
  try {
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, Buffer.alloc(4096));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
  } catch (err) {
    try {
      unlinkSync(probe);
    } catch {
      // not created
    }
    fail(errnoText(err));
  }
}

// ------------------------------------------------------------------ dynalite internals
// dynalite does not expose its LevelDB handle: `db.create` (dynalite/db, the same module
// instance dynalite uses) is wrapped while dynalite() runs to get it.
type Callback = (err: unknown, ...rest: unknown[]) => void;
interface LevelHandle {
  put: (...args: unknown[]) => unknown;
  get: (...args: unknown[]) => unknown;
  del: (...args: unknown[]) => unknown;
  batch: (...args: unknown[]) => unknown;
  keys: (...args: unknown[]) => object;
  values: (...args: unknown[]) => object;
  open: () => Promise<void>;
  close: ((cb?: Callback) => unknown) & { _original?: () => Promise<void> };
  status: string;
}
interface DynaliteStore {
  db: LevelHandle;
}
type Dynalite = (opts: Record<string, unknown>) => Server;

const require = createRequire(import.meta.url);

/** Errors LevelDB (or dynalite's wrapper around it) gives when the store itself fails. */
function isStoreFailure(err: unknown): boolean {
  const e = err as { code?: string; message?: string; statusCode?: number };
  if (!e || e.statusCode) return false;
  if (e.message === 'Database is closed') return true;
  return typeof e.code === 'string' && e.code.startsWith('LEVEL_') && e.code !== 'LEVEL_NOT_FOUND' && e.code !== 'LEVEL_DECODE_ERROR';
}

function rootCause(err: unknown): string {
  let e = err as { message?: string; cause?: unknown };
  while (e?.cause && (e.cause as { message?: string }).message) e = e.cause as { message?: string; cause?: unknown };
  return String(e?.message ?? err);
}

/** The error dynalite answers as HTTP 500 InternalServerError instead of throwing it. */
function asServiceError(err: unknown): Error {
  const message = `embedded store: ${rootCause(err)}`;
  return Object.assign(new Error(message), {
    statusCode: 500,
    body: { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message },
  });
}

export interface EmbeddedStore {
  /** dynalite's HTTP port on 127.0.0.1. */
  port: number;
  /** LevelDB iterators open now (a Query or Scan in progress holds one; none is left behind). */
  openIterators(): number;
  /** The store is refusing writes (last write failed), and why. */
  failing(): string | null;
  close(): Promise<void>;
}

/** dynalite over `path`, and the LevelDB handle it made (captured while dynalite creates it). */
function createDynalite(path: string): { server: Server; level: LevelHandle } {
  const dbModule = require('dynalite/db') as { create: (o: unknown) => DynaliteStore };
  const dynalite = require('dynalite') as Dynalite;
  const create = dbModule.create;
  let captured: DynaliteStore | undefined;
  dbModule.create = (o) => {
    captured = create(o);
    return captured;
  };
  let server: Server;
  try {
    server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  } finally {
    dbModule.create = create;
  }
  const level = captured?.db;
  if (!level) throw new Error('dynalite internals changed: no LevelDB handle');
  return { server, level };
}

/** Whether the store refuses writes (and why), and whether it is being reopened. */
interface WriteState {
  failure: string | null;
  reopening: boolean;
  lastReopen: number;
}

/**
 * After a failed write, LevelDB's log may end in a torn record, and a reopen drops whatever
 * was appended after it: so no write is attempted any more (they fail at once) until the
 * handle has been reopened, which starts a new log. Store failures reach dynalite as its
 * HTTP 500 InternalServerError.
 */
function guardLevel(level: LevelHandle, state: WriteState, log: (line: string) => void): { openIterators: () => number } {
  let open = 0;
  const onWrite = (err: unknown) => {
    if (!err || !isStoreFailure(err) || state.reopening) return;
    if (state.failure === null) log(`vigil master: the store cannot write (${rootCause(err)}): writes answer 503 until it is reopened`);
    state.failure = rootCause(err);
  };
  const wrap = (name: 'put' | 'get' | 'del' | 'batch', write: boolean) => {
    const original = level[name].bind(level);
    level[name] = (...args: unknown[]) => {
      const cb = args[args.length - 1];
      if (typeof cb !== 'function') return original(...args);
      if (write && state.failure !== null) {
        setImmediate(cb as Callback, asServiceError(new Error(`writes refused until the store is reopened (${state.failure})`)));
        return undefined;
      }
      args[args.length - 1] = (err: unknown, ...rest: unknown[]) => {
        if (write) onWrite(err);
        (cb as Callback)(err && isStoreFailure(err) ? asServiceError(err) : err, ...rest);
      };
      try {
        return original(...args);
      } catch (err) {
        if (!isStoreFailure(err)) throw err;
        setImmediate(cb as Callback, asServiceError(err));
        return undefined;
      }
    };
  };
  wrap('put', true);
  wrap('del', true);
  wrap('batch', true);
  wrap('get', false);
  for (const name of ['keys', 'values'] as const) {
    const original = level[name].bind(level);
    level[name] = (...args: unknown[]) => {
      const it = original(...args) as object & { close: () => Promise<void> };
      open++;
      let closed: Promise<void> | null = null;
      const close = () => {
        if (!closed) closed = it.close().finally(() => open--);
        return closed;
      };
      return new Proxy(it, {
        get(target, prop) {
          // dynalite ends its streams with return() (an async iterator's), abstract-level has close()
          if (prop === 'return') return () => close().then(() => ({ done: true, value: undefined }));
          if (prop === 'close') return close;
          const v = Reflect.get(target, prop, target) as unknown;
          if (typeof v !== 'function') return v;
          if (prop === 'next' || prop === 'nextv' || prop === 'all') {
            return (...a: unknown[]) =>
              (v as (...x: unknown[]) => Promise<unknown>).apply(target, a).catch((err: unknown) => {
                throw isStoreFailure(err) ? asServiceError(err) : err;
              });
          }
          return (v as (...x: unknown[]) => unknown).bind(target);
        },
      });
    };
  }
  return { openIterators: () => open };
}

/** Explicit open: an unusable store is a start-up error, not a stack from a request. */
async function openLevel(level: LevelHandle, server: Server, dataDir: string, path: string): Promise<void> {
  try {
    await level.open();
  } catch (err) {
    await new Promise<void>((r) => server.close(() => r()));
    const cause = rootCause(err);
    const locked = /lock/i.test(cause) || (err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
    throw new StartupError(
      locked
        ? `data dir ${dataDir}: the store ${path} is in use by another process (another vigil master?): ${cause}`
        : `data dir ${dataDir}: cannot open the store ${path}: ${cause}`,
    );
  }
}

/** Recovery: while writes fail and there is room again, reopen LevelDB (checked every second). */
function startRecovery(level: LevelHandle, state: WriteState, path: string, log: (line: string) => void): NodeJS.Timeout {
  const reopen = async () => {
    state.reopening = true;
    state.lastReopen = Date.now();
    try {
      await level.close._original?.();
      await level.open();
      state.failure = null;
      log('vigil master: the store was reopened and writes again');
    } catch (err) {
      log(`vigil master: reopening the store failed (${rootCause(err)}); trying again`);
    } finally {
      state.reopening = false;
    }
  };
  const timer = setInterval(() => {
    if (state.failure === null || state.reopening || Date.now() - state.lastReopen < REOPEN_INTERVAL_MS) return;
    let free = 0;
    try {
      const s = statfsSync(path);
      free = Number(s.bavail) * Number(s.bsize);
    } catch {
      return;
    }
    if (free >= REOPEN_MIN_FREE_BYTES || level.status !== 'open') void reopen();
  }, CHECK_INTERVAL_MS);
  timer.unref();
  return timer;
}

export async function startEmbeddedStore(opts: { dataDir: string; log?: (line: string) => void }): Promise<EmbeddedStore> {
  const log = opts.log ?? (() => {});
  const path = join(opts.dataDir, 'db');
  const { server, level } = createDynalite(path);
  const state: WriteState = { failure: null, reopening: false, lastReopen: 0 };
  const iterators = guardLevel(level, state, log);
  await openLevel(level, server, opts.dataDir, path);
  const timer = startRecovery(level, state, path, log);
  const port = await new Promise<number>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', rej);
      res((server.address() as AddressInfo).port);
    });
  });
  return {
    port,
    openIterators: iterators.openIterators,
    failing: () => state.failure,
    close: async () => {
      clearInterval(timer);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
