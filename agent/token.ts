// Reads a computer token file, refusing one that other users can read, and anything but a
// regular file (a FIFO or a device would block the agent on open or read for ever).
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats, statSync } from 'node:fs';

export class TokenFileError extends Error {}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function notRegular(file: string, st: Stats): TokenFileError {
  return new TokenFileError(`token file ${file} is ${kindOf(st)}, not a regular file; write the token to a regular file (chmod 600)`);
}

export function readTokenFile(file: string): string {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (err) {
    throw new TokenFileError(`cannot read token file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  // checked before opening: opening a FIFO for reading waits for a writer
  if (!st.isFile()) throw notRegular(file, st);
  if ((st.mode & 0o007) !== 0) {
    const octal = (st.mode & 0o777).toString(8).padStart(3, '0');
    throw new TokenFileError(
      `token file ${file} is accessible by other users (mode ${octal}); run: chmod 600 ${file}`,
    );
  }
  let text: string;
  let fd: number;
  try {
    // non-blocking open, then the type of what was really opened (the path may have been
    // replaced since the stat)
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new TokenFileError(`cannot read token file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const opened = fstatSync(fd);
    if (!opened.isFile()) throw notRegular(file, opened);
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const token = text.trim();
  if (!token) throw new TokenFileError(`token file ${file} is empty`);
  if (/\s/.test(token)) throw new TokenFileError(`token file ${file} must hold one token on one line`);
  return token;
}

/**
 * The token of a token file, re-read when the file changes (a rotated token is picked up
 * without a restart). A changed file that cannot be used keeps the previous token and
 * reports why once.
 */
export function tokenFileSource(file: string, initial: string, onError?: (message: string) => void): () => string {
  const stamp = (st: Stats) => `${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`;
  let token = initial;
  let seen: string | undefined;
  try {
    seen = stamp(statSync(file));
  } catch {
    seen = undefined;
  }
  return () => {
    let now: string | undefined;
    try {
      now = stamp(statSync(file));
    } catch {
      now = undefined;
    }
    if (now === undefined || now === seen) return token;
    seen = now;
    try {
      token = readTokenFile(file);
    } catch (err) {
      onError?.(`${(err as Error).message}; still using the previous token`);
    }
    return token;
  };
}
