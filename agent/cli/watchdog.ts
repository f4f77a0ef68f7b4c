// `vigil watchdog`: a supervisord event listener. Speaks the event-listener protocol on
// stdin/stdout (READY, header line, payload, RESULT 2\nOK) — so it logs to stderr only — and
// bangs (source "watchdog") when a process whose name ends in "-on-watch" reaches EXITED or
// FATAL. Throttle (reference watchdog): no second bang from a partition before a successful
// instantiation newer than its last bang (read from <root>/<partition>/.vigil/agent/).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sendBang } from '../bang.ts';
import { createMasterClient, type MasterClient } from '../client.ts';
import { createLogger, type Logger } from '../log.ts';
import { bangBlockedReason, readLastBang, readPartitionState } from '../state.ts';
import { readTokenFile, TokenFileError, tokenFileSource } from '../token.ts';
import { MASTER_OPTIONS, parseCommand } from './args.ts';

export const WATCH_SUFFIX = '-on-watch';
const WATCHED_EVENTS = new Set(['PROCESS_STATE_EXITED', 'PROCESS_STATE_FATAL']);

const HELP = `usage: vigil watchdog --master URL --computer ID --token-file F [--instance-root DIR] [--json] [--verbose]

supervisord event listener: bangs the master (source "watchdog") when a watched process
(process name ending in "${WATCH_SUFFIX}", group = partition id) reaches EXITED or FATAL.
Run it from an [eventlistener:watchdog] section with
events=PROCESS_STATE_EXITED,PROCESS_STATE_FATAL (see 'vigil supervisord-config').

  --master URL          master base URL
  --computer ID         this computer's id
  --token-file F        file holding the computer token (mode 600)
  --instance-root DIR   partitions root; enables the throttle (no second bang before a
                        newer successful instantiation)
  --timeout S           HTTP timeout in seconds (default 5)
  --json                JSON log lines on stderr
  --verbose             log every event
`;

/** Parse a supervisord `key:value key:value` line. */
export function parseTokens(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of line.trim().split(/\s+/)) {
    const i = part.indexOf(':');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export interface WatchdogDeps {
  client: MasterClient;
  instanceRoot?: string;
  log: Logger;
  now: () => Date;
}

/** Handle one event; returns what was done (for logs/tests). */
export async function handleEvent(
  deps: WatchdogDeps,
  headers: Record<string, string>,
  payload: string,
): Promise<string> {
  const eventName = headers.eventname ?? '';
  if (!WATCHED_EVENTS.has(eventName)) return `ignored ${eventName}`;
  const p = parseTokens(payload);
  const processName = p.processname ?? '';
  const partitionId = p.groupname ?? '';
  if (!processName.endsWith(WATCH_SUFFIX)) return `ignored ${processName} (not watched)`;
  if (!partitionId || partitionId.includes('/') || partitionId.startsWith('.')) {
    deps.log.warn(`watchdog: ${eventName} of ${processName} without a usable group name '${partitionId}'`);
    return 'ignored (no partition)';
  }
  const partitionDir = deps.instanceRoot ? join(deps.instanceRoot, partitionId) : undefined;
  if (partitionDir && existsSync(partitionDir)) {
    const blocked = bangBlockedReason(readPartitionState(partitionDir), readLastBang(partitionDir), deps.now());
    if (blocked) {
      deps.log.info(`watchdog: ${processName} of ${partitionId} ${eventName}; no bang: ${blocked}`);
      return `throttled: ${blocked}`;
    }
  }
  const state = eventName.replace('PROCESS_STATE_', '');
  const detail = [`from ${p.from_state ?? '?'}`, p.expected !== undefined ? `expected=${p.expected}` : '']
    .filter(Boolean)
    .join(', ');
  const message = `${processName} process in partition ${partitionId} encountered a problem: ${state} (${detail})`;
  if (!partitionDir || !existsSync(partitionDir)) {
    // no local state to throttle or spool with: best effort direct bang
    const r = await deps.client.bang(partitionId, {
      bangId: crypto.randomUUID(),
      message,
      source: 'watchdog',
    });
    const what = r.ok ? 'bang sent' : `bang failed: ${r.message}`;
    deps.log.warn(`watchdog: ${partitionId}: ${what} (no partition directory to throttle or spool)`);
    return what;
  }
  const r = await sendBang({ client: deps.client, partitionDir, partitionId, message, source: 'watchdog', now: deps.now });
  switch (r.outcome) {
    case 'sent':
      deps.log.info(`watchdog: bang ${partitionId} (${processName} ${state}) fanned out to ${r.fannedOutTo ?? '?'} partitions`, {
        partitionId,
        bangId: r.bangId,
      });
      return 'bang sent';
    case 'spooled':
      deps.log.warn(`watchdog: bang ${partitionId} spooled (the agent will replay it): ${r.reason}`, { partitionId });
      return 'bang spooled';
    case 'quota':
      deps.log.warn(`watchdog: bang ${partitionId} refused by quota: ${r.message}`, { partitionId });
      return 'bang quota';
    case 'rejected':
      deps.log.error(`watchdog: bang ${partitionId} rejected: ${r.message}`, { partitionId });
      return 'bang rejected';
  }
}

/**
 * Run the listener protocol until stdin ends. Events are handled one at a time, as
 * supervisord sends the next only after RESULT + READY.
 */
export function runListener(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  onEvent: (headers: Record<string, string>, payload: string) => Promise<unknown>,
  log: Logger,
): Promise<void> {
  return new Promise((resolveDone) => {
    let buf = Buffer.alloc(0);
    let headers: Record<string, string> | undefined;
    let busy = false;
    let ended = false;
    const pump = async () => {
      if (busy) return;
      busy = true;
      try {
        for (;;) {
          if (!headers) {
            const nl = buf.indexOf(10);
            if (nl < 0) break;
            const line = buf.subarray(0, nl).toString('utf8');
            buf = buf.subarray(nl + 1);
            if (!line.trim()) continue;
            headers = parseTokens(line);
          }
          const len = Number(headers.len ?? 0);
          if (buf.length < len) break;
          const payload = buf.subarray(0, len).toString('utf8');
          buf = buf.subarray(len);
          const h = headers;
          headers = undefined;
          try {
            await onEvent(h, payload);
          } catch (err) {
            log.error(`watchdog: event handling failed: ${err instanceof Error ? err.message : String(err)}`);
          }
          output.write('RESULT 2\nOK');
          output.write('READY\n');
        }
      } finally {
        busy = false;
      }
      if (ended) resolveDone();
    };
    input.on('data', (chunk: Buffer | string) => {
      buf = Buffer.concat([buf, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
      void pump();
    });
    input.on('end', () => {
      ended = true;
      if (!busy) resolveDone();
    });
    output.write('READY\n');
  });
}

export async function main(argv: string[]): Promise<number> {
  const values = parseCommand('vigil watchdog', HELP, argv, {
    ...MASTER_OPTIONS,
    'instance-root': { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
  });
  if (typeof values === 'number') return values;
  const missing = ['master', 'computer', 'token-file'].filter((k) => typeof values[k] !== 'string' || !values[k]);
  if (missing.length) {
    process.stderr.write(`vigil watchdog: missing ${missing.map((m) => `--${m}`).join(', ')}\n\n${HELP}`);
    return 2;
  }
  const timeoutS = values.timeout === undefined ? 5 : Number(values.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
    process.stderr.write(`vigil watchdog: --timeout must be a positive number of seconds\n`);
    return 2;
  }
  try {
    new URL(String(values.master));
  } catch {
    process.stderr.write(`vigil watchdog: --master '${values.master}' is not a URL\n`);
    return 2;
  }
  const log = createLogger({ json: Boolean(values.json), verbose: Boolean(values.verbose), base: { component: 'watchdog' } });
  let token: string;
  try {
    token = readTokenFile(String(values['token-file']));
  } catch (err) {
    if (err instanceof TokenFileError) {
      process.stderr.write(`vigil watchdog: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const instanceRoot = typeof values['instance-root'] === 'string' ? resolve(values['instance-root']) : undefined;
  if (!instanceRoot) log.warn('watchdog: no --instance-root: bangs are not throttled and not spooled');
  const deps: WatchdogDeps = {
    client: createMasterClient({
      masterUrl: String(values.master),
      computerId: String(values.computer),
      token: tokenFileSource(String(values['token-file']), token, (m) => log.error(`watchdog: ${m}`)),
      timeoutMs: timeoutS * 1000,
    }),
    log,
    now: () => new Date(),
    ...(instanceRoot ? { instanceRoot } : {}),
  };
  log.info(`watchdog: listening for supervisord events (master ${values.master})`);
  await runListener(
    process.stdin,
    process.stdout,
    async (h, p) => {
      const what = await handleEvent(deps, h, p);
      log.debug(`watchdog: ${h.eventname ?? '?'}: ${what}`);
    },
    log,
  );
  return 0;
}
