// The local master's delivery worker: deliverDue passes in process, woken by publishes
// (deps.notify.wake), else at the earliest due item (nextWakeAt), at least once a minute (the
// repair of unrouted events). The queue is in the table (dynalite, in the data dir), so a
// restart loses nothing: the first pass after start delivers what was left.
import { type DeliverDueOptions, type DeliverDueResult, deliverDue } from '../services/notify-deliver.ts';
import type { DeliverDeps } from '../services/notify-deliver.ts';
import { putChannel } from '../services/notify-admin.ts';

export interface DeliveryLoop {
  /** Run a pass as soon as possible (after the running one), looking at these events first. */
  wake(eventIds?: readonly string[]): void;
  stop(): Promise<void>;
}

/** A pass waits at most this long for the next one (also the pace of the publish repair). */
const MAX_SLEEP_MS = 60_000;
/** After a pass that could do nothing (items leased by a worker that died), before the next. */
const STUCK_SLEEP_MS = 1000;
/** After a failed pass (the store unavailable). */
const ERROR_SLEEP_MS = 5000;

export function startDeliveryLoop(opts: {
  deps: DeliverDeps;
  log: (line: string) => void;
  options?: DeliverDueOptions;
}): DeliveryLoop {
  const { deps, log } = opts;
  let stopped = false;
  let woken = false;
  const hints: string[] = [];
  let wakeUp: (() => void) | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });

  const report = (r: DeliverDueResult) => {
    if (r.delivered + r.retried + r.dead + r.repaired === 0) return;
    log(`vigil master: notifications: ${r.delivered} delivered, ${r.retried} to retry, ${r.dead} dead${r.repaired ? `, ${r.repaired} unrouted event(s) routed` : ''}`);
  };

  const loop = async () => {
    while (!stopped) {
      woken = false;
      const events = hints.splice(0);
      let delay: number;
      try {
        const r = await deliverDue(deps, deps.now(), { concurrency: 8, ...opts.options, events });
        report(r);
        const now = deps.now().getTime();
        const progress = r.attempted + r.deferred + r.repaired > 0;
        delay = r.nextWakeAt === null ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(0, r.nextWakeAt.getTime() - now));
        if (delay === 0 && !progress) delay = STUCK_SLEEP_MS;
      } catch (err) {
        log(`vigil master: notification delivery failed, retrying in ${ERROR_SLEEP_MS / 1000} s: ${err instanceof Error ? err.message : String(err)}`);
        delay = ERROR_SLEEP_MS;
      }
      if (stopped) break;
      if (woken) continue;
      if (delay > 0) await sleep(delay);
    }
  };
  const done = loop();

  return {
    wake(eventIds = []) {
      hints.push(...eventIds);
      woken = true;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await done;
    },
  };
}

/**
 * The demo channel (`vigil master --demo-webhook URL`, VIGIL_DEMO_WEBHOOK): a webhook named
 * `demo` to that URL (a Slack incoming-webhook URL makes it a slack channel). A new webhook's
 * generated secret is logged once, to verify signatures with.
 */
export async function ensureDemoChannel(deps: DeliverDeps, url: string, log: (line: string) => void): Promise<void> {
  const kind = /^https:\/\/hooks\.slack\.com\//.test(url) ? 'slack' : 'webhook';
  const r = await putChannel(deps, DEMO_CHANNEL_ID, { kind, url });
  if (r.outcome === 'conflict') return;
  const secret = r.channel.secret ? `; signing secret (shown once): ${r.channel.secret}` : '';
  log(`vigil master: demo ${kind} channel '${DEMO_CHANNEL_ID}' → ${r.channel.url}${secret}`);
}

export const DEMO_CHANNEL_ID = 'demo';
