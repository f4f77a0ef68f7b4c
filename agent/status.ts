// `vigil agent --status`: what the agent keeps on disk for each partition of an instance root
// — its last instantiation, the reports and bangs waiting in its spool, and the parked ones
// (refused by the master too often; offered again now and then) — read without the master.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ID_PATTERN } from '../protocol/index.ts';
import { partitionSpool } from './bang.ts';
import type { SpoolItem } from './spool.ts';
import { readPartitionState } from './state.ts';

export interface ParkedStatus {
  file: string;
  kind: 'report' | 'bang';
  id: string;
  queuedAt: string;
  parkedAt?: string;
  attempts: number;
  lastError?: string;
}

export interface PartitionStatus {
  partitionId: string;
  assigned?: boolean;
  lastInstantiationAt?: string;
  lastInstantiationOk?: boolean;
  nextAttemptAt?: string;
  spooled: { reports: number; bangs: number };
  parkedDir: string;
  parked: ParkedStatus[];
}

function parkedStatus(i: SpoolItem): ParkedStatus {
  return {
    file: i.file,
    kind: i.kind,
    id: i.kind === 'report' ? i.body.reportId : i.body.bangId,
    queuedAt: i.queuedAt,
    ...(i.parkedAt ? { parkedAt: i.parkedAt } : {}),
    attempts: i.attempts ?? 0,
    ...(i.lastError ? { lastError: i.lastError } : {}),
  };
}

export function agentStatus(instanceRoot: string): PartitionStatus[] {
  const ids = readdirSync(instanceRoot, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && ID_PATTERN.test(e.name))
    .map((e) => e.name)
    .sort();
  return ids.map((partitionId) => {
    const dir = join(instanceRoot, partitionId);
    const state = readPartitionState(dir);
    const spool = partitionSpool(dir);
    const items = spool.list();
    return {
      partitionId,
      ...(state.assigned !== undefined ? { assigned: state.assigned } : {}),
      ...(state.lastInstantiationAt ? { lastInstantiationAt: state.lastInstantiationAt } : {}),
      ...(state.lastInstantiationOk !== undefined ? { lastInstantiationOk: state.lastInstantiationOk } : {}),
      ...(state.nextAttemptAt ? { nextAttemptAt: state.nextAttemptAt } : {}),
      spooled: { reports: items.filter((i) => i.kind === 'report').length, bangs: items.filter((i) => i.kind === 'bang').length },
      parkedDir: spool.parkedDir,
      parked: spool.listParked().map(parkedStatus),
    };
  });
}

/** The readable form: one line per partition, then one per parked item. */
export function formatStatus(instanceRoot: string, list: PartitionStatus[]): string {
  const lines: string[] = [`instance root ${instanceRoot}: ${list.length} partition(s)`];
  for (const p of list) {
    const last = p.lastInstantiationAt
      ? `last instantiation ${p.lastInstantiationAt} ${p.lastInstantiationOk ? 'ok' : 'FAILED'}${p.nextAttemptAt ? `, retry after ${p.nextAttemptAt}` : ''}`
      : 'never instantiated';
    const assigned = p.assigned === false ? ' (not assigned by the master)' : '';
    lines.push(
      `${p.partitionId}${assigned}: ${last}; spool ${p.spooled.reports} report(s), ${p.spooled.bangs} bang(s); ${p.parked.length} parked`,
    );
    for (const i of p.parked) {
      lines.push(
        `  parked ${i.kind} ${i.id} (queued ${i.queuedAt}${i.parkedAt ? `, parked ${i.parkedAt}` : ''}, ${i.attempts} × 5xx): ${i.lastError ?? ''}`.trimEnd(),
      );
      lines.push(`    ${join(p.parkedDir, i.file)}`);
    }
  }
  const parked = list.reduce((n, p) => n + p.parked.length, 0);
  if (parked > 0) {
    lines.push(
      `${parked} parked item(s): the agent offers them to the master again every hour (--parked-retry); to send them at the next cycle, move them back: mv <partition>/.vigil/agent/spool/parked/*.json <partition>/.vigil/agent/spool/`,
    );
  }
  return `${lines.join('\n')}\n`;
}
