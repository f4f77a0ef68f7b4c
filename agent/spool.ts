// On-disk spool of reports and bangs the master did not acknowledge. One JSON file per item,
// written atomically (temp + fsync + rename), named so that lexical order = enqueue order;
// replayed in that order with the item's original id (the master is idempotent on
// reportId/bangId), across agent restarts. Several processes may enqueue (agent, watchdog);
// the agent replays. An item the master keeps refusing with a 5xx is *parked*: moved, as
// is, to `parked/` beside the queue (visible in `vigil agent --status`), so the items behind
// it flow; parked items are offered to the master again now and then.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { BangRequest, ReportRequest } from '../protocol/index.ts';
import { fsyncDir, isRecord, readJsonFile, writeFileAtomic } from './fsutil.ts';

/** Delivery history of an item (absent until the master refused it once). */
export interface SpoolAttempts {
  /** 5xx answers so far */
  attempts?: number;
  lastError?: string;
  /** ISO */
  lastAttemptAt?: string;
  /** ISO, when moved to parked/ */
  parkedAt?: string;
}

export type SpoolEntry = (
  | { kind: 'report'; partitionId: string; body: ReportRequest; queuedAt: string }
  | { kind: 'bang'; partitionId: string; body: BangRequest; queuedAt: string }
) &
  SpoolAttempts;

export type SpoolItem = SpoolEntry & { file: string };

/** What the sender decided for one item. */
export type SendOutcome =
  | { outcome: 'ack' }
  | { outcome: 'drop'; reason: string }
  /** keep it and stop replaying this spool for now (order is preserved) */
  | { outcome: 'retry'; reason: string }
  /** move it to parked/ (refused too often) and go on with the next item */
  | { outcome: 'park'; reason: string };

export interface FlushResult {
  sent: number;
  dropped: number;
  parked: number;
  remaining: number;
  /** reason the flush stopped before the end */
  stopped?: string;
}

let lastMs = 0;
let counter = 0;

function nextName(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else {
    counter += 1;
  }
  return `${String(lastMs).padStart(15, '0')}-${String(counter).padStart(6, '0')}-${randomBytes(4).toString('hex')}.json`;
}

export class Spool {
  constructor(readonly dir: string) {}

  /** Durably add an item; returns its file name. */
  enqueue(entry: SpoolEntry): string {
    mkdirSync(this.dir, { recursive: true });
    const name = nextName();
    writeFileAtomic(join(this.dir, name), `${JSON.stringify(entry)}\n`);
    return name;
  }

  /** The directory of parked items. */
  get parkedDir(): string {
    return join(this.dir, 'parked');
  }

  private files(dir = this.dir): string[] {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names.filter((n) => /^\d{15}-\d{6}-[0-9a-f]+\.json$/.test(n)).sort();
  }

  depth(): number {
    return this.files().length;
  }

  parkedCount(): number {
    return this.files(this.parkedDir).length;
  }

  /** Items in replay order. Unreadable files are set aside as `<name>.bad` (never replayed). */
  list(onBad?: (file: string) => void, dir = this.dir): SpoolItem[] {
    const items: SpoolItem[] = [];
    for (const file of this.files(dir)) {
      const raw = readJsonFile(join(dir, file));
      if (
        isRecord(raw) &&
        (raw.kind === 'report' || raw.kind === 'bang') &&
        typeof raw.partitionId === 'string' &&
        isRecord(raw.body) &&
        typeof raw.queuedAt === 'string'
      ) {
        items.push({ ...(raw as unknown as SpoolEntry), file });
      } else {
        try {
          renameSync(join(dir, file), join(dir, `${file}.bad`));
        } catch {
          // another process took it
        }
        onBad?.(file);
      }
    }
    return items;
  }

  /** Parked items, oldest first. */
  listParked(): SpoolItem[] {
    return this.list(undefined, this.parkedDir);
  }

  remove(file: string, dir = this.dir): void {
    try {
      unlinkSync(join(dir, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    fsyncDir(dir);
  }

  /** Rewrites an item in place (its delivery history), atomically. */
  update(item: SpoolItem, dir = this.dir): void {
    const { file, ...entry } = item;
    if (!existsSync(join(dir, file))) return; // delivered or parked meanwhile
    writeFileAtomic(join(dir, file), `${JSON.stringify(entry)}\n`);
  }

  /** Moves an item to parked/ (same name: its place in the order is kept). */
  park(item: SpoolItem, at: string): void {
    const { file, ...entry } = item;
    mkdirSync(this.parkedDir, { recursive: true });
    writeFileAtomic(join(this.parkedDir, file), `${JSON.stringify({ ...entry, parkedAt: at })}\n`);
    this.remove(file);
  }

  /**
   * Replay every item in order: stops at the first 'retry' so nothing overtakes it; a
   * 'park' moves the item aside and goes on.
   */
  async flush(send: (item: SpoolItem) => Promise<SendOutcome>, shouldStop?: () => boolean): Promise<FlushResult> {
    const items = this.list();
    let sent = 0;
    let dropped = 0;
    let parked = 0;
    for (let i = 0; i < items.length; i++) {
      if (i > 0 && shouldStop?.()) return { sent, dropped, parked, remaining: items.length - i, stopped: 'time budget used' };
      const item = items[i]!;
      const r = await send(item);
      if (r.outcome === 'retry') return { sent, dropped, parked, remaining: items.length - i, stopped: r.reason };
      if (r.outcome === 'park') {
        this.park(item, new Date().toISOString());
        parked++;
        continue;
      }
      this.remove(item.file);
      if (r.outcome === 'ack') sent++;
      else dropped++;
    }
    return { sent, dropped, parked, remaining: 0 };
  }
}
