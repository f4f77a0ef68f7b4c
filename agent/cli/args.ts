// Command-line parsing shared by the agent-side commands (agent, watchdog, promise,
// supervisord-config): strict flags, no positionals, `--help` on stdout, bad usage on stderr
// with the command's help and exit code 2.
import { parseArgs } from 'node:util';

export type CliValues = Record<string, string | boolean | undefined>;
export type CliOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** The flags of every command that talks to the master as a computer. */
export const MASTER_OPTIONS = {
  master: { type: 'string' },
  computer: { type: 'string' },
  'token-file': { type: 'string' },
} as const satisfies CliOptions;

/** Strict parse: the values, or the message of the usage error. */
export function parseFlags(argv: string[], options: CliOptions): { values: CliValues } | { error: string } {
  try {
    const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    return { values: values as CliValues };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * Parses a command's flags: the values to run with, or the exit code when done already
 * (0 after printing the help for --help, 2 after a usage error on stderr).
 */
export function parseCommand(command: string, help: string, argv: string[], options: CliOptions): CliValues | number {
  const r = parseFlags(argv, options);
  if ('error' in r) {
    process.stderr.write(`${command}: ${r.error}\n\n${help}`);
    return 2;
  }
  if (r.values.help) {
    process.stdout.write(help);
    return 0;
  }
  return r.values;
}
