// Agent logs: one readable line per event (`2024-05-01T10:00:00.000Z info  message`), or one
// JSON object per line with --json. Debug lines only with --verbose.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  readonly verbose: boolean;
}

export interface LoggerOptions {
  json?: boolean;
  verbose?: boolean;
  write?: (line: string) => void;
  now?: () => Date;
  /** added to every JSON line (e.g. {component: 'watchdog'}) */
  base?: LogFields;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const now = opts.now ?? (() => new Date());
  const verbose = opts.verbose ?? false;
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (level === 'debug' && !verbose) return;
    const time = now().toISOString();
    if (opts.json) {
      write(`${JSON.stringify({ time, level, msg, ...opts.base, ...fields })}\n`);
    } else {
      write(`${time} ${level.padEnd(5)} ${msg}\n`);
    }
  };
  return {
    verbose,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
