// Reads a computer token file, refusing one that other users can read.
import { readFileSync, type Stats, statSync } from 'node:fs';

export class TokenFileError extends Error {}

export function readTokenFile(file: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    throw new TokenFileError(`cannot read token file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if ((mode & 0o007) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new TokenFileError(
      `token file ${file} is accessible by other users (mode ${octal}); run: chmod 600 ${file}`,
    );
  }
  const token = readFileSync(file, 'utf8').trim();
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
