// Heartbeats at least every `everyMs` (SPEC §2: at least every 60 s), whatever the agent is
// doing: the cycle asks for one at its start, and a timer sends one whenever `everyMs` passed
// since the last one started (a slow etc/instantiate, a long spool replay against a slow
// master). A heartbeat asked for while one is in flight shares it (no double request).
import type { CallResult, MasterClient } from './client.ts';
import type { HeartbeatResponse } from '../protocol/index.ts';
import type { Logger } from './log.ts';

export class HeartbeatKeeper {
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<CallResult<HeartbeatResponse>> | undefined;
  private running = false;
  /** Date.now() when the last heartbeat request started (0: none yet) */
  lastStartMs = 0;
  /** heartbeats sent by the timer (not asked for by a cycle) */
  keepAlives = 0;

  constructor(
    private readonly client: MasterClient,
    readonly everyMs: number,
    private readonly log: Logger,
  ) {}

  /** A heartbeat now (or the one in flight). */
  beat(): Promise<CallResult<HeartbeatResponse>> {
    if (this.inflight) return this.inflight;
    this.lastStartMs = Date.now();
    this.arm();
    const p = this.client.heartbeat().finally(() => {
      if (this.inflight === p) this.inflight = undefined;
    });
    this.inflight = p;
    return p;
  }

  /** Keeps heartbeating every `everyMs` until stop(). */
  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    const due = Math.max(0, this.lastStartMs + this.everyMs - Date.now());
    this.timer = setTimeout(() => {
      if (this.inflight) {
        // the last one is still waiting for its answer: the next starts when it ends
        void this.inflight.finally(() => this.arm());
        return;
      }
      this.keepAlives++;
      void this.beat().then((r) => {
        if (r.ok) this.log.debug('keep-alive heartbeat ok', { event: 'keep-alive' });
        else this.log.debug(`keep-alive heartbeat failed: ${r.message}`, { event: 'keep-alive' });
      });
    }, due);
    // the run loop's own timer keeps the process alive; this one never does by itself
    this.timer.unref();
  }
}
