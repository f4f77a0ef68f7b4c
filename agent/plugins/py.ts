// The reference plugins are Python: their messages quote values with repr() (`%r`) and name
// OS errors the Python way. Stock plugins start their messages with the reference's text, so
// these helpers render values as Python would.

/** Python's repr() of a str (or of None / a number / a boolean). */
export function pyRepr(value: unknown): string {
  if (value === undefined || value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  const s = String(value);
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0x80 && cp < 0xa0) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** Python's repr() of bytes: b'failure\nme\n'. */
export function pyBytesRepr(buf: Buffer): string {
  const hasSingle = buf.includes(0x27);
  const quote = hasSingle && !buf.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const b of buf) {
    if (b === 0x5c) out += '\\\\';
    else if (b === quote.charCodeAt(0)) out += `\\${quote}`;
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out + quote;
}

/** Linux errno, message and Python class of the usual system errors. */
const ERRNO: Record<string, [number, string, string]> = {
  EPERM: [1, 'Operation not permitted', 'PermissionError'],
  ENOENT: [2, 'No such file or directory', 'FileNotFoundError'],
  EIO: [5, 'Input/output error', 'OSError'],
  EACCES: [13, 'Permission denied', 'PermissionError'],
  EEXIST: [17, 'File exists', 'FileExistsError'],
  ENOTDIR: [20, 'Not a directory', 'NotADirectoryError'],
  EISDIR: [21, 'Is a directory', 'IsADirectoryError'],
  EPIPE: [32, 'Broken pipe', 'BrokenPipeError'],
  ENAMETOOLONG: [36, 'File name too long', 'OSError'],
  ENETUNREACH: [101, 'Network is unreachable', 'OSError'],
  ECONNRESET: [104, 'Connection reset by peer', 'ConnectionResetError'],
  ETIMEDOUT: [110, 'Connection timed out', 'TimeoutError'],
  ECONNREFUSED: [111, 'Connection refused', 'ConnectionRefusedError'],
  EHOSTUNREACH: [113, 'No route to host', 'OSError'],
  EADDRNOTAVAIL: [99, 'Cannot assign requested address', 'OSError'],
};

export interface PyOSError {
  /** the Python class name, e.g. FileNotFoundError */
  type: string;
  errno?: number;
  strerror: string;
}

export function pyOSError(err: unknown): PyOSError {
  const e = err as NodeJS.ErrnoException;
  const known = e?.code ? ERRNO[e.code] : undefined;
  if (known) return { type: known[2], errno: known[0], strerror: known[1] };
  return { type: 'OSError', strerror: e?.message ?? String(err) };
}

/** str() of a Python OSError: `[Errno 2] No such file or directory: '/x'` (filename when given). */
export function pyErrorStr(err: unknown, filename?: string): string {
  const p = pyOSError(err);
  if (p.errno === undefined) return p.strerror;
  return `[Errno ${p.errno}] ${p.strerror}${filename !== undefined ? `: ${pyRepr(filename)}` : ''}`;
}

/** repr() of a Python OSError: `IsADirectoryError(21, 'Is a directory')`. */
export function pyErrorRepr(err: unknown): string {
  const p = pyOSError(err);
  if (p.errno === undefined) return `${p.type}(${pyRepr(p.strerror)})`;
  return `${p.type}(${p.errno}, ${pyRepr(p.strerror)})`;
}

/** Python's int() of a config value: an integer, or undefined when int() would raise. */
export function pyInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*([+-]?\d+)\s*$/.exec(value.replace(/_/g, ''));
  return m ? Number(m[1]) : undefined;
}

/** int(value) or the reference's ValueError text. */
export function pyIntOrThrow(value: unknown, key: string): number {
  const n = pyInt(value);
  if (n === undefined) throw new Error(`invalid literal for int() with base 10: ${pyRepr(value)} (config '${key}')`);
  return n;
}
