// Admission of requests on the local master (issue 12, fleet bench): the app, the embedded
// store and the queue share one Node event loop, so every request in progress adds its store
// calls to one queue. With 50 agents sending reports at once, a heartbeat waited behind all
// of their calls (p99 600 ms against 17 ms outside the burst). Here at most `limit` ordinary
// requests run at a time and the others wait their turn (first come, first served), while
// the liveness path never waits: heartbeats, bangs and /healthz. A waiting request has had
// its body read already (http-server.ts); one whose client goes away is dropped.
// In the cloud each Lambda invocation runs one request: nothing of this applies there.

/** Ordinary requests run at once on the local master (the rest wait). */
export const ADMIT_CONCURRENT = 4;

const HEARTBEAT = /^\/v1\/computers\/[^/]+\/heartbeat$/;
const BANG = /^\/v1\/partitions\/[^/]+\/bang$/;

/** Requests that never wait: a computer's heartbeat, a bang, the health check. */
export function isPriorityRequest(method: string | undefined, url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0] ?? '';
  if (method === 'POST') return HEARTBEAT.test(path) || BANG.test(path);
  return method === 'GET' && path === '/healthz';
}

export interface Gate {
  /**
   * Runs `start` now (priority, or a free slot) or when a slot frees; `start` returns a
   * promise of the request's end, which frees the slot. `gone()` true when its turn comes:
   * skipped (its client went away).
   */
  admit(priority: boolean, start: () => Promise<void>, gone?: () => boolean): void;
  /** Ordinary requests running, and waiting. */
  readonly running: number;
  readonly waiting: number;
}

export function createGate(limit: number = ADMIT_CONCURRENT): Gate {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`admission limit must be a positive integer, got ${limit}`);
  let running = 0;
  const queue: { start: () => Promise<void>; gone: () => boolean }[] = [];
  const run = (start: () => Promise<void>) => {
    running++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      running--;
      next();
    };
    start().then(release, release);
  };
  const next = () => {
    while (running < limit && queue.length > 0) {
      const w = queue.shift();
      if (w && !w.gone()) run(w.start);
    }
  };
  return {
    admit(priority, start, gone = () => false) {
      if (priority) {
        void start().catch(() => {});
        return;
      }
      if (running < limit) run(start);
      else queue.push({ start, gone });
    },
    get running() {
      return running;
    },
    get waiting() {
      return queue.length;
    },
  };
}
