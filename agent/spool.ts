// On-disk spool of reports and bangs the master did not acknowledge. One JSON file per item,
// written atomically (temp + fsync + rename), named so that lexical order = enqueue order;
// replayed in that order with the item's original id (the master is idempotent on
// reportId/bangId), across agent restarts. Several processes may enqueue (agent, watchdog);
// the agent replays.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { BangBody, ReportBody } from './client.ts';
import { fsyncDir, isRecord, readJsonFile, writeFileAtomic } from './fsutil.ts';

export type SpoolEntry =
  | { kind: 'report'; partitionId: string; body: ReportBody; queuedAt: string }
  | { kind: 'bang'; partitionId: string; body: BangBody; queuedAt: string };

export type SpoolItem = SpoolEntry & { file: string };

/** What the sender decided for one item. */
export type SendOutcome =
  | { outcome: 'ack' }
  | { outcome: 'drop'; reason: string }
  /** keep it and stop replaying this spool for now (order is preserved) */
  | { outcome: 'retry'; reason: string };

export interface FlushResult {
  sent: number;
  dropped: number;
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

  private files(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.filter((n) => /^\d{15}-\d{6}-[0-9a-f]+\.json$/.test(n)).sort();
  }

  depth(): number {
    return this.files().length;
  }

  /** Items in replay order. Unreadable files are set aside as `<name>.bad` (never replayed). */
  list(onBad?: (file: string) => void): SpoolItem[] {
    const items: SpoolItem[] = [];
    for (const file of this.files()) {
      const raw = readJsonFile(join(this.dir, file));
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
          renameSync(join(this.dir, file), join(this.dir, `${file}.bad`));
        } catch {
          // another process took it
        }
        onBad?.(file);
      }
    }
    return items;
  }

  remove(file: string): void {
    try {
      unlinkSync(join(this.dir, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    fsyncDir(this.dir);
  }

  /** Replay every item in order; stops at the first 'retry' so nothing overtakes it. */
  async flush(send: (item: SpoolItem) => Promise<SendOutcome>): Promise<FlushResult> {
    const items = this.list();
    let sent = 0;
    let dropped = 0;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const r = await send(item);
      if (r.outcome === 'retry') return { sent, dropped, remaining: items.length - i, stopped: r.reason };
      this.remove(item.file);
      if (r.outcome === 'ack') sent++;
      else dropped++;
    }
    return { sent, dropped, remaining: 0 };
  }
}
