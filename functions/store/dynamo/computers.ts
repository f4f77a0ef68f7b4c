// Computers: one small item each in one collection (pk COMPUTERS, sk = id), in no index. A
// heartbeat is one conditional UpdateItem of it; its partition assignments are cached by
// the computer's assignment version (bumped whenever they change), so a heartbeat reads
// nothing while they stay the same.
import type { HeartbeatPartition } from '../../../protocol/index.ts';
import type { ComputerRecord, PartitionRecord } from '../../domain/records.ts';
import { keys } from '../table.ts';
import type { ComputerStore } from '../types.ts';
import { C, colourCode, computerFromItem, computerItem, hashBytes, ms, P, partitionFromItem, pendingToItem } from './items.ts';
import { computerPartitionsQuery, touchPartitions } from './partitions.ts';
import { keyOf, mapItems, readItem, type TableClient } from './table-client.ts';

/** Computers whose assignments are cached (per process; the oldest are dropped first). */
const ASSIGNMENT_CACHE_MAX = 20_000;

/** Assignments by computer, valid for one assignment version. */
class AssignmentCache {
  private readonly entries = new Map<string, { version: number; partitions: HeartbeatPartition[] }>();
  get(computerId: string, version: number): HeartbeatPartition[] | undefined {
    const e = this.entries.get(computerId);
    return e && e.version === version ? e.partitions : undefined;
  }
  set(computerId: string, version: number, partitions: HeartbeatPartition[]): void {
    this.entries.delete(computerId);
    if (this.entries.size >= ASSIGNMENT_CACHE_MAX) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(computerId, { version, partitions });
  }
}

const assignmentOf = (p: PartitionRecord): HeartbeatPartition => ({
  partitionId: p.partitionId,
  instanceTreeId: p.instanceTreeId,
  softwareReleaseId: p.softwareReleaseId,
  periodicitySeconds: p.periodicitySeconds,
});

/** Bumps the assignment version of computers (their heartbeats re-read their partitions). */
export async function bumpAssignments(table: TableClient, computerIds: Iterable<string>): Promise<void> {
  for (const id of new Set(computerIds)) await addOne(table, id, C.assignmentVersion);
}

async function updateComputer(table: TableClient, id: string, patch: { instantiationFrequencySeconds?: number }, now: string): Promise<ComputerRecord | null> {
  const sets = ['#ua = :now'];
  const names: Record<string, string> = { '#ua': C.updatedAt };
  const values: Record<string, unknown> = { ':now': ms(now) };
  if (patch.instantiationFrequencySeconds !== undefined) {
    sets.push('#fq = :f');
    names['#fq'] = C.frequency;
    values[':f'] = patch.instantiationFrequencySeconds;
  }
  const old = await table.update({
    Key: keys.computer(id),
    UpdateExpression: `SET ${sets.join(', ')}`,
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: 'ALL_OLD',
  });
  if (old === false || old === null) return null;
  const before = computerFromItem(old);
  const frequency = patch.instantiationFrequencySeconds;
  if (frequency !== undefined && before.instantiationFrequencySeconds !== frequency) {
    const refs = await table.queryAll({ ...computerPartitionsQuery(id), ProjectionExpression: 'pk, sk', ConsistentRead: true });
    await touchPartitions(table, refs.map(keyOf), { [P.frequency]: frequency }, now);
  }
  return { ...before, ...(frequency !== undefined ? { instantiationFrequencySeconds: frequency } : {}), updatedAt: now };
}

/** Raises a computer's reprocess hint (after the flags it concerns are written): its heartbeats read its partitions' flags. */
export async function raiseHint(table: TableClient, computerId: string): Promise<void> {
  await addOne(table, computerId, C.reprocessHint);
}

/** Adds 1 to a counter of an existing computer's item (never creates the item). */
async function addOne(table: TableClient, computerId: string, attribute: string): Promise<void> {
  await table.update({
    Key: keys.computer(computerId),
    UpdateExpression: 'ADD #a :one',
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeNames: { '#a': attribute },
    ExpressionAttributeValues: { ':one': 1 },
  });
}

export function computerStore(table: TableClient): ComputerStore {
  const cache = new AssignmentCache();

  async function computerPartitions(computerId: string, version: number): Promise<PartitionRecord[]> {
    const items = await table.queryAll({ ...computerPartitionsQuery(computerId), ConsistentRead: true });
    const partitions = items.map(partitionFromItem);
    cache.set(computerId, version, partitions.map(assignmentOf));
    return partitions;
  }

  return {
    createComputer: (c, now) => table.create(computerItem(c, now)),

    updateComputer: (id, patch, now) => updateComputer(table, id, patch, now),

    async setComputerToken(id, tokenHash, now) {
      const r = await table.update({
        Key: keys.computer(id),
        UpdateExpression: 'SET #th = :h, #ua = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#th': C.tokenHash, '#ua': C.updatedAt },
        ExpressionAttributeValues: { ':h': hashBytes(tokenHash), ':now': ms(now) },
      });
      return r !== false;
    },

    async getComputer(id, consistent = true) {
      const i = await table.get(keys.computer(id), consistent);
      return i ? computerFromItem(i) : null;
    },

    listComputers: (page) =>
      table.listPage({
        scope: 'computers',
        query: { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.computersPk } },
        bounds: { fixed: { pk: keys.computersPk } },
        load: mapItems(computerFromItem),
        ...page,
      }),

    async recordContact(id, c) {
      const r = await table.updateOld({
        Key: keys.computer(id),
        UpdateExpression: 'SET #lc = :at, #av = :v',
        ConditionExpression: '#th = :h',
        ExpressionAttributeNames: { '#lc': C.lastContact, '#av': C.agentVersion, '#th': C.tokenHash },
        ExpressionAttributeValues: { ':at': ms(c.at), ':v': c.agentVersion, ':h': hashBytes(c.tokenHash) },
      });
      if (r.ok) {
        if (!r.old) throw new Error(`computer ${id}: UpdateItem returned no old attributes`);
        return { outcome: 'recorded', before: computerFromItem(r.old) };
      }
      if (!r.item) return { outcome: 'refused', exists: null, tokenHash: null };
      return { outcome: 'refused', exists: true, tokenHash: computerFromItem(r.item).tokenHash };
    },

    async recordComputerColour(id, c, seenContactAt, notify) {
      const names: Record<string, string> = { '#c': C.colour, '#cs': C.colourSince, '#lc': C.lastContact };
      const values: Record<string, unknown> = { ':c': colourCode(c.colour), ':s': c.colourSince === null ? null : ms(c.colourSince) };
      const sets = ['#c = :c', '#cs = :s'];
      let cond = 'attribute_not_exists(#lc)';
      if (seenContactAt) {
        cond = '#lc = :lc';
        values[':lc'] = ms(seenContactAt);
      }
      if (notify) {
        // one change, one writer: the colour as read (a heartbeat and the sweep may both see it)
        values[':oc'] = colourCode(notify.seenColour);
        cond += ' AND #c = :oc';
        if (notify.pending.length) {
          names['#np'] = C.notifyPending;
          values[':np'] = pendingToItem(notify.pending);
          sets.push('#np = :np');
          if (notify.seenPending.length) {
            values[':npr'] = pendingToItem(notify.seenPending);
            cond += ' AND #np = :npr';
          } else cond += ' AND attribute_not_exists(#np)';
        }
      }
      const r = await table.update({
        Key: keys.computer(id),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: `attribute_exists(pk) AND ${cond}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
      return r !== false;
    },

    async getAssignments(computerId, version) {
      return cache.get(computerId, version) ?? (await computerPartitions(computerId, version)).map(assignmentOf);
    },

    getComputerPartitions: (computerId, version) => computerPartitions(computerId, version),

    async clearReprocessHint(computerId, seen) {
      const r = await table.update({
        Key: keys.computer(computerId),
        UpdateExpression: 'REMOVE #rh',
        ConditionExpression: '#rh = :seen',
        ExpressionAttributeNames: { '#rh': C.reprocessHint },
        ExpressionAttributeValues: { ':seen': seen },
      });
      return r !== false;
    },

    async getComputerAndPartition(computerId, partitionId, consistent = false) {
      const ck = keys.computer(computerId);
      const pk = keys.partition(computerId, partitionId);
      const found = await table.batchGet([ck, pk], consistent);
      const c = found.find((i) => i.pk === ck.pk);
      const p = found.find((i) => i.pk === pk.pk);
      return { computer: c ? computerFromItem(c) : null, partition: p ? partitionFromItem(p) : null };
    },

    getComputerPartition: (computerId, partitionId, consistent = false) =>
      consistent ? readItem(table, keys.partition(computerId, partitionId), partitionFromItem) : table.get(keys.partition(computerId, partitionId), false).then((i) => (i ? partitionFromItem(i) : null)),
  };
}
