// Replays the partitions' spools to the master (split out of the loop). Each partition's
// spool is replayed in order and independently of the others: an item the master refuses
// stops its own partition only. What decides:
//   - acknowledged (the master's answer)        → removed
//   - refused for good (4xx but 401/408/429)    → dropped, with a log line
//   - 5xx                                        → kept; its partition waits for the next
//                                                  round; after PARK_AFTER of them the item
//                                                  is parked (kept in parked/, logged) so the
//                                                  rest of its partition flows
//   - the master unreachable / not answering / a proxy's answer / 401 / 429
//                                                → kept; two partitions in a row failing so
//                                                  ends the round (nothing is reachable)
// Parked items are offered again every `parkedRetryMs`. Each round has a time budget so a
// slow master delays the partitions' own work by at most that much (the heartbeat keeper
// keeps heartbeating meanwhile).
import { join } from 'node:path';
import { partitionSpool } from './bang.ts';
import type { CallResult, MasterClient } from './client.ts';
import type { Logger } from './log.ts';
import type { SendOutcome, Spool, SpoolItem } from './spool.ts';

/** 5xx answers after which an item is parked. */
export const PARK_AFTER = 5;

export interface ReplayDeps {
  client: MasterClient;
  log: Logger;
  now: () => Date;
  instanceRoot: string;
  /** a replayed bang refused by the daily quota (429) */
  onBangQuota: (partitionDir: string, partitionId: string, retryAfterSeconds: number | undefined, message: string) => void;
}

export interface ReplaySummary {
  sent: number;
  /** bangs among `sent` (the loop then heartbeats again soon, to pick up the fan-out) */
  bangs: number;
  dropped: number;
  parked: number;
  /** why the round ended early */
  stopped?: string;
}

/** How one send went, for the round. */
type Sent = SendOutcome & { masterDown?: boolean };

export class SpoolReplayer {
  /** no report before this (epoch ms): the master answered 429 */
  reportWaitUntil = 0;
  private rotation = 0;

  constructor(
    private readonly deps: ReplayDeps,
    private readonly opts: { parkAfter: number; parkedRetryMs: number },
  ) {}

  /** Spool items waiting, over these partitions. */
  depth(partitions: string[]): number {
    let n = 0;
    for (const p of partitions) n += this.spool(p).depth();
    return n;
  }

  private spool(partitionId: string): Spool {
    return partitionSpool(join(this.deps.instanceRoot, partitionId));
  }

  /** One round over the partitions' spools (each in order, independently), within budgetMs. */
  async replay(partitions: string[], budgetMs: number): Promise<ReplaySummary> {
    const out: ReplaySummary = { sent: 0, bangs: 0, dropped: 0, parked: 0 };
    const now = () => this.deps.now().getTime();
    if (this.reportWaitUntil > now()) return { ...out, stopped: 'master asked to wait (429)' };
    const start = Date.now();
    const overBudget = () => Date.now() - start >= budgetMs;
    // start each round with another partition: none is always served last
    const n = partitions.length;
    const order = partitions.map((_, i) => partitions[(i + this.rotation) % n]!);
    this.rotation = n > 0 ? (this.rotation + 1) % n : 0;
    let downInARow = 0;
    let sentOne = false;
    for (const partitionId of order) {
      if (sentOne && overBudget()) return { ...out, stopped: 'time budget used' };
      const spool = this.spool(partitionId);
      const due = spool.depth() > 0 || this.parkedDue(spool);
      if (!due) continue;
      let masterDown = false;
      const send = async (item: SpoolItem): Promise<SendOutcome> => {
        sentOne = true;
        const r = await this.send(spool, item);
        if (r.masterDown) masterDown = true;
        if (r.outcome === 'ack' && item.kind === 'bang') out.bangs++;
        return r;
      };
      const r = await spool.flush(send, overBudget);
      out.sent += r.sent;
      out.dropped += r.dropped;
      out.parked += r.parked;
      if (r.remaining === 0 && !masterDown) await this.retryParked(spool, out);
      if (masterDown) {
        downInARow++;
        if (downInARow >= 2) return { ...out, stopped: r.stopped ?? 'master unreachable' };
      } else downInARow = 0;
      if (this.reportWaitUntil > now()) return { ...out, stopped: 'master asked to wait (429)' };
    }
    return out;
  }

  private parkedDue(spool: Spool): boolean {
    if (spool.parkedCount() === 0) return false;
    return spool.listParked().some((i) => this.parkedRetryDue(i));
  }

  private parkedRetryDue(item: SpoolItem): boolean {
    const last = Date.parse(item.lastAttemptAt ?? item.parkedAt ?? item.queuedAt);
    return !(this.deps.now().getTime() - last < this.opts.parkedRetryMs);
  }

  /** Offers the parked items whose retry is due to the master again (oldest first). */
  private async retryParked(spool: Spool, out: ReplaySummary): Promise<void> {
    for (const item of spool.listParked()) {
      if (!this.parkedRetryDue(item)) continue;
      const r = await this.send(spool, item, true);
      if (r.outcome === 'ack' || r.outcome === 'drop') {
        spool.remove(item.file, spool.parkedDir);
        if (r.outcome === 'ack') {
          out.sent++;
          this.deps.log.info(`spool: parked ${describe(item)} delivered`, { partitionId: item.partitionId, event: 'unparked' });
        } else out.dropped++;
      } else {
        spool.update({ ...item, lastAttemptAt: this.deps.now().toISOString() }, spool.parkedDir);
        if (r.masterDown) return;
      }
    }
  }

  /** Sends one item; counts 5xx answers in the item and parks it after parkAfter of them. */
  private async send(spool: Spool, item: SpoolItem, parkedAlready = false): Promise<Sent> {
    const r: CallResult<unknown> =
      item.kind === 'report'
        ? await this.deps.client.report(item.partitionId, item.body)
        : await this.deps.client.bang(item.partitionId, item.body);
    const what = describe(item);
    if (r.ok) {
      this.deps.log.info(`spool: replayed ${what}`, { partitionId: item.partitionId, event: 'replayed' });
      return { outcome: 'ack' };
    }
    if (r.status === 429) {
      if (item.kind === 'bang') {
        this.deps.onBangQuota(join(this.deps.instanceRoot, item.partitionId), item.partitionId, r.retryAfterSeconds, r.message);
        return { outcome: 'drop', reason: r.message };
      }
      this.reportWaitUntil = this.deps.now().getTime() + (r.retryAfterSeconds ?? 60) * 1000;
      return { outcome: 'retry', reason: r.message, masterDown: true };
    }
    if (r.status !== undefined && r.status >= 500) {
      const attempts = (item.attempts ?? 0) + 1;
      const history = { attempts, lastError: r.message, lastAttemptAt: this.deps.now().toISOString() };
      if (parkedAlready) {
        spool.update({ ...item, ...history }, spool.parkedDir);
        this.deps.log.info(`spool: parked ${what} still refused (${attempts} × 5xx): ${r.message}`, { partitionId: item.partitionId });
        return { outcome: 'retry', reason: r.message };
      }
      if (attempts >= this.opts.parkAfter) {
        Object.assign(item, history);
        this.deps.log.warn(
          `spool: ${what} refused ${attempts} times by the master (${r.message}); parked in ${spool.parkedDir} so the partition's other items flow ('vigil agent --status' lists it)`,
          { partitionId: item.partitionId, event: 'parked' },
        );
        return { outcome: 'park', reason: r.message };
      }
      spool.update({ ...item, ...history });
      return { outcome: 'retry', reason: r.message };
    }
    if (r.retryable) return { outcome: 'retry', reason: r.message, masterDown: true };
    this.deps.log.warn(`spool: master rejected ${what}; dropped: ${r.message}`, { partitionId: item.partitionId });
    return { outcome: 'drop', reason: r.message };
  }
}

function describe(item: SpoolItem): string {
  return item.kind === 'report' ? `report ${item.body.reportId} of ${item.partitionId}` : `bang ${item.body.bangId} of ${item.partitionId}`;
}
