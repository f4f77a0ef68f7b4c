// `vigil agent`: the node agent loop (see agent/loop.ts).
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { killAllGroups } from '../engine/proc.ts';
import { createMasterClient } from '../client.ts';
import { createLogger } from '../log.ts';
import { Agent, type AgentSettings, DEFAULT_SETTINGS } from '../loop.ts';
import { PARK_AFTER } from '../replay.ts';
import { agentStatus, formatStatus } from '../status.ts';
import { readTokenFile, TokenFileError, tokenFileSource } from '../token.ts';
import { parseFlags } from './args.ts';

const HELP = `usage: vigil agent --master URL --computer ID --token-file F --instance-root DIR [options]
       vigil agent --status --instance-root DIR [--json]

Runs the node agent: every cycle it heartbeats the master, (re)instantiates the partitions
that need it (master asked after a bang, new, periodic, failed and back-off elapsed) and
reports, runs the anomaly checks of the others, reports state changes and bangs on
anomalies. Undeliverable reports and bangs are spooled on disk and replayed in order, each
partition on its own; an item the master answers 5xx ${PARK_AFTER} times is parked (kept on disk,
offered again every --parked-retry) so the partition's other items flow.

  --master URL                master base URL
  --computer ID               this computer's id
  --token-file F              file holding the computer token (must not be readable by others: chmod 600)
  --instance-root DIR         directory of the partitions (<DIR>/<partitionId>/)
  --config FILE               JSON file with any of these options (camelCase or kebab-case keys);
                              command-line flags win
  --once                      run one cycle and exit (1 if a partition failed or the master was unreachable)
  --interval S                seconds between cycles (default 60, at most 60)
  --instantiate-timeout S     etc/instantiate timeout (default 600)
  --backoff-base S            first retry delay after a failed instantiation (default 10, doubling)
  --backoff-max S             longest retry delay (default 300)
  --frequency S               instantiation frequency when the master does not send one (default 86400)
  --promise-timeout S         per-promise timeout (default: the engine's, 20)
  --concurrency N             partitions processed at the same time (default 2)
  --http-timeout S            timeout of each request to the master (default 10)
  --parked-retry S            how often parked spool items are offered again (default 3600)
  --supervisord-config FILE   supervisord configuration written by 'vigil supervisord-config':
                              after a successful etc/instantiate the agent starts the
                              partition's programs (supervisorctl -c FILE start <partition>:*),
                              so a service that exited (and banged) runs again
  --verbose                   more detail
  --json                      one JSON object per log line (stderr)
  --status                    print, for each partition of --instance-root, its last
                              instantiation, its spooled and its parked items (with --json:
                              one JSON document), and exit; needs no master
`;

const STRING_OPTS = [
  'master',
  'computer',
  'token-file',
  'instance-root',
  'config',
  'interval',
  'instantiate-timeout',
  'backoff-base',
  'backoff-max',
  'frequency',
  'promise-timeout',
  'concurrency',
  'http-timeout',
  'supervisord-config',
  'parked-retry',
] as const;

class UsageError extends Error {}

const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function loadConfig(file: string): Record<string, string | boolean> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--config ${file}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`--config ${file}: not a JSON object`);
  const out: Record<string, string | boolean> = {};
  const allowed = new Map<string, string>();
  for (const k of [...STRING_OPTS, 'once', 'verbose', 'json', 'status']) {
    allowed.set(k, k);
    allowed.set(camel(k), k);
  }
  const base = dirname(resolve(file));
  for (const [k, v] of Object.entries(raw)) {
    const key = allowed.get(k);
    if (!key || key === 'config') throw new UsageError(`--config ${file}: unknown key '${k}'`);
    if (key === 'once' || key === 'verbose' || key === 'json' || key === 'status') {
      if (typeof v !== 'boolean') throw new UsageError(`--config ${file}: '${k}' must be true or false`);
      out[key] = v;
    } else if (typeof v === 'string' || typeof v === 'number') {
      out[key] =
        key === 'token-file' || key === 'instance-root' || key === 'supervisord-config' ? resolve(base, String(v)) : String(v);
    } else {
      throw new UsageError(`--config ${file}: '${k}' must be a string or a number`);
    }
  }
  return out;
}

function seconds(values: Record<string, unknown>, key: string, def: number, max?: number): number {
  const v = values[key];
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${key} must be a positive number of seconds (got '${v}')`);
  if (max !== undefined && n > max) throw new UsageError(`--${key} must be at most ${max} seconds (got ${n})`);
  return n;
}

/** The agent's settings from the options (UsageError when one is wrong). */
function parseSettings(values: Record<string, string | boolean | undefined>): AgentSettings {
  const missing = ['master', 'computer', 'token-file', 'instance-root'].filter((k) => typeof values[k] !== 'string' || !values[k]);
  if (missing.length) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
  const master = String(values.master);
  try {
    const u = new URL(master);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new UsageError(`--master '${master}' is not an http(s) URL`);
  }
  const instanceRoot = resolve(String(values['instance-root']));
  try {
    if (!statSync(instanceRoot).isDirectory()) throw new Error();
  } catch {
    throw new UsageError(`--instance-root ${instanceRoot} is not a directory`);
  }
  const concurrency = values.concurrency === undefined ? DEFAULT_SETTINGS.concurrency : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency must be a positive integer');
  const backoffBase = seconds(values, 'backoff-base', DEFAULT_SETTINGS.backoff.baseMs / 1000);
  const backoffMax = seconds(values, 'backoff-max', DEFAULT_SETTINGS.backoff.maxMs / 1000);
  if (backoffMax < backoffBase) throw new UsageError('--backoff-max must be at least --backoff-base');
  let supervisordConfig: string | undefined;
  if (typeof values['supervisord-config'] === 'string') {
    supervisordConfig = resolve(values['supervisord-config']);
    try {
      if (!statSync(supervisordConfig).isFile()) throw new Error();
    } catch {
      throw new UsageError(`--supervisord-config ${supervisordConfig} is not a file (write it with 'vigil supervisord-config')`);
    }
  }
  const promiseTimeout = values['promise-timeout'] === undefined ? undefined : seconds(values, 'promise-timeout', 20);
return {
    ...DEFAULT_SETTINGS,
    masterUrl: master.replace(/\/+$/, ''),
    computerId: String(values.computer),
    instanceRoot,
    intervalMs: seconds(values, 'interval', 60, 60) * 1000,
    instantiateTimeoutMs: seconds(values, 'instantiate-timeout', 600) * 1000,
    backoff: { baseMs: backoffBase * 1000, maxMs: backoffMax * 1000 },
    defaultFrequencySeconds: seconds(values, 'frequency', DEFAULT_SETTINGS.defaultFrequencySeconds),
    concurrency,
    parkedRetryMs: seconds(values, 'parked-retry', DEFAULT_SETTINGS.parkedRetryMs / 1000) * 1000,
    ...(promiseTimeout ? { promiseTimeoutSeconds: promiseTimeout } : {}),
    ...(supervisordConfig ? { supervisordConfig } : {}),
  };
}

/** --status: the agent's on-disk state of each partition (spool, parked items), no master needed. */
function printStatus(values: Record<string, string | boolean | undefined>): number {
  if (typeof values['instance-root'] !== 'string') throw new UsageError('--status needs --instance-root');
  const root = resolve(values['instance-root']);
  let list: ReturnType<typeof agentStatus>;
  try {
    list = agentStatus(root);
  } catch (err) {
    throw new UsageError(`--instance-root ${root} is not a readable directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  process.stdout.write(values.json ? `${JSON.stringify({ instanceRoot: root, partitions: list }, null, 2)}\n` : formatStatus(root, list));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  let settings: AgentSettings;
  let once: boolean;
  let verbose: boolean;
  let json: boolean;
  let tokenFile: string;
  let httpTimeoutMs: number;
  try {
    const flags = parseFlags(argv, {
      ...Object.fromEntries(STRING_OPTS.map((k) => [k, { type: 'string' as const }])),
      once: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      json: { type: 'boolean' },
      status: { type: 'boolean' },
    });
    if ('error' in flags) throw new UsageError(flags.error);
    const parsed = flags.values;
    if (parsed.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const fromFile = typeof parsed.config === 'string' ? loadConfig(parsed.config) : {};
    const values: Record<string, string | boolean | undefined> = { ...fromFile };
    for (const [k, v] of Object.entries(parsed)) if (v !== undefined) values[k] = v;
    if (values.status) return printStatus(values);
    settings = parseSettings(values);
    httpTimeoutMs = seconds(values, 'http-timeout', 10) * 1000;
    once = Boolean(values.once);
    verbose = Boolean(values.verbose);
    json = Boolean(values.json);
    tokenFile = resolve(String(values['token-file']));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vigil agent: ${err.message}\n\nRun 'vigil agent --help' for the options.\n`);
      return 2;
    }
    throw err;
  }
  let token: string;
  try {
    token = readTokenFile(tokenFile);
  } catch (err) {
    if (err instanceof TokenFileError) {
      process.stderr.write(`vigil agent: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger({ json, verbose, base: { component: 'agent', computerId: settings.computerId } });
  const client = createMasterClient({
    masterUrl: settings.masterUrl,
    computerId: settings.computerId,
    token: tokenFileSource(tokenFile, token, (m) => log.error(m)),
    timeoutMs: httpTimeoutMs,
  });
  const agent = new Agent(settings, { client, log });
  log.info(
    `agent ${settings.computerId} starting: master ${settings.masterUrl}, instance root ${settings.instanceRoot}, ` +
      `${once ? 'one cycle' : `every ${settings.intervalMs / 1000} s`}`,
  );
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      const killed = killAllGroups();
      log.warn(`${sig} again: exiting now${killed ? ` (killed ${killed} running process group(s))` : ''}`);
      process.exit(130);
    }
    log.info(`${sig}: stopping after the current step (send it again to exit now)`);
    agent.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const last = await agent.run({ once });
    if (once && last) return last.failed || !last.heartbeatOk ? 1 : 0;
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
