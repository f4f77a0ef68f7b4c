// Reads a computer token file, refusing one that other users can read.
import { readFileSync, statSync } from 'node:fs';

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
