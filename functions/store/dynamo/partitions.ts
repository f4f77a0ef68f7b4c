// Partitions: items under their computer (pk C#<computer>, sk P#<partition>), in KEYS_ONLY
// indexes by id, tree and software release (plus the sparse sweep, red and crimes indexes).
// SR settings and the computer frequency are denormalized into them.
import { crimesOf } from '../../domain/crimes.ts';
import { pendingReprocess } from '../../domain/reprocess.ts';
import { mapLimit } from '../../lib/concurrency.ts';
import { GSI_CRIMES, GSI_PARTITIONS, GSI_RED, GSI_TREE, INDEX_ATTR as A, INDEX_PK, indexKeys, keys } from '../table.ts';
import { initialPartitionNotifyState, type PartitionRecord } from '../../domain/records.ts';
import type { Accept, InitialColour, ListRequest, NotifyWrite, PartitionFilter, PartitionRef, PartitionStore, PutPartitionResult } from '../types.ts';
import { bumpAssignments, raiseHint } from './computers.ts';
import { colourCode, computerFromItem, ms, notifyStateToItem, P, partitionFromItem, pendingToItem, softwareReleaseFromItem } from './items.ts';
import { type CursorBounds, type Item, type Key, keyOf, type ListSpec, loadItems, mapItems, type QueryInput, type TableClient } from './table-client.ts';

/** Entries a filtered partition page examines at most, per item asked (then it answers short, with a cursor). */
const FILTER_BUDGET_PER_ITEM = 5;

/** The partition item of `partitionId`, wherever its computer is (the list index, then a consistent read). */
export async function findPartitionItem(table: TableClient, partitionId: string): Promise<Item | null> {
  const page = await table.queryPage({
    IndexName: GSI_PARTITIONS,
    KeyConditionExpression: '#l = :l AND sk = :sk',
    ExpressionAttributeNames: { '#l': A.list },
    ExpressionAttributeValues: { ':l': INDEX_PK.list, ':sk': keys.partitionSk(partitionId) },
  });
  const hit = page.items[0];
  if (!hit) return null;
  // The index is eventually consistent: re-read the item itself.
  return table.get(keyOf(hit));
}

/** The keys of a computer's partition items. */
export function computerPartitionsQuery(computerId: string) {
  return {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': keys.computerPartitionsPk(computerId), ':p': keys.partitionSkPrefix },
  };
}

/** Mark partitions as due for the sweep now (their colour may have changed) and apply denormalized changes. */
export async function touchPartitions(table: TableClient, refs: Key[], set: Record<string, unknown>, now: string): Promise<void> {
  const names: Record<string, string> = { '#sw': A.sweep, '#sd': A.sweepDue, '#ua': P.updatedAt };
  const values: Record<string, unknown> = { ':sw': INDEX_PK.sweep, ':now': now, ':ua': ms(now) };
  const parts = ['#sw = :sw', '#sd = :now', '#ua = :ua'];
  Object.entries(set).forEach(([k, v], idx) => {
    names[`#a${idx}`] = k;
    values[`:v${idx}`] = v;
    parts.push(`#a${idx} = :v${idx}`);
  });
  await mapLimit(refs, table.concurrency, (ref) =>
    table.update({ Key: ref, UpdateExpression: `SET ${parts.join(', ')}`, ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
  );
}

/** The SET/REMOVE clauses that keep a partition in the red index iff it is recorded red. */
export function redIndexUpdate(p: { instanceTreeId: string; partitionId: string }, red: boolean, names: Record<string, string>, values: Record<string, unknown>) {
  names['#rx'] = A.red;
  names['#rt'] = A.redKey;
  if (!red) return { set: [] as string[], remove: ['#rx', '#rt'] };
  const k = indexKeys.red(p.instanceTreeId, p.partitionId);
  values[':rx'] = k[A.red];
  values[':rt'] = k[A.redKey];
  return { set: ['#rx = :rx', '#rt = :rt'], remove: [] as string[] };
}

/**
 * The SET clauses and conditions of a partition's notification state write (NotifyWrite):
 * the state, and the pending events when given, each conditional on what was read.
 */
export function notifyStateUpdate(p: PartitionRecord, n: NotifyWrite, names: Record<string, string>, values: Record<string, unknown>): { set: string[]; cond: string[] } {
  names['#nf'] = P.notify;
  values[':nf'] = notifyStateToItem(n.state);
  const set = ['#nf = :nf'];
  const read = notifyStateToItem(p.notify);
  values[':nfr'] = read;
  // no state stored reads as the initial one
  const cond = [read === notifyStateToItem(initialPartitionNotifyState()) ? '(attribute_not_exists(#nf) OR #nf = :nfr)' : '#nf = :nfr'];
  if (n.state.sampledAt) {
    names['#ns'] = P.notifySampledAt;
    values[':ns'] = ms(n.state.sampledAt);
    set.push('#ns = :ns');
  }
  if (n.pending?.length) {
    names['#np'] = P.notifyPending;
    values[':np'] = pendingToItem(n.pending);
    set.push('#np = :np');
    if (p.notifyPending.length) {
      values[':npr'] = pendingToItem(p.notifyPending);
      cond.push('#np = :npr');
    } else cond.push('attribute_not_exists(#np)');
  }
  return { set, cond };
}

async function putPartition(
  table: TableClient,
  p: { partitionId: string; computerId: string; instanceTreeId: string; softwareReleaseId: string },
  now: string,
  initial: InitialColour,
): Promise<PutPartitionResult> {
  const [computerItem, srItem, existing] = await Promise.all([
    table.get(keys.computer(p.computerId)),
    table.get(keys.softwareRelease(p.softwareReleaseId)),
    findPartitionItem(table, p.partitionId),
  ]);
  if (!computerItem) return { missing: 'computer' };
  if (!srItem) return { missing: 'softwareRelease' };
  const computer = computerFromItem(computerItem);
  const sr = softwareReleaseFromItem(srItem);
  const key = keys.partition(p.computerId, p.partitionId);
  const denorm: Item = {
    ...indexKeys.list(),
    ...indexKeys.tree(p.instanceTreeId),
    ...indexKeys.softwareRelease(p.softwareReleaseId),
    [P.periodicity]: sr.periodicitySeconds,
    [P.quota]: sr.bangQuotaPerDay,
    [P.frequency]: computer.instantiationFrequencySeconds,
    [P.updatedAt]: ms(now),
  };
  const before = existing ? partitionFromItem(existing) : null;
  if (existing && existing.pk !== key.pk && before) {
    // Moved to another computer: carry its state over (due for the sweep now), then drop the old item.
    const item: Item = { ...existing, ...denorm, ...key, ...indexKeys.sweep(now) };
    if (existing[A.red]) Object.assign(item, indexKeys.red(p.instanceTreeId, p.partitionId));
    await table.put(item);
    await table.delete(keyOf(existing));
    await bumpAssignments(table, [before.computerId, p.computerId]);
    // a reprocess flag still pending goes with it: the new computer's heartbeats read it
    if (pendingReprocess(before)) await raiseHint(table, p.computerId);
    return { created: false, record: partitionFromItem(item) };
  }
  const names: Record<string, string> = { '#c': P.colour, '#cs': P.colourSince, '#ca': P.createdAt };
  const values: Record<string, unknown> = { ':ic': colourCode(initial.colour), ':now': ms(now) };
  const sets = ['#c = if_not_exists(#c, :ic)', '#cs = if_not_exists(#cs, :now)', '#ca = if_not_exists(#ca, :now)'];
  Object.entries(denorm).forEach(([k, v], idx) => {
    names[`#d${idx}`] = k;
    values[`:d${idx}`] = v;
    sets.push(`#d${idx} = :d${idx}`);
  });
  // a new partition starts red ("no report yet"); a recorded red one moving to another tree moves in the red index
  const red = before ? before.colour === 'red' : initial.colour === 'red';
  if (red) sets.push(...redIndexUpdate(p, true, names, values).set);
  if (existing) {
    names['#sw'] = A.sweep;
    names['#sd'] = A.sweepDue;
    values[':sw'] = INDEX_PK.sweep;
    values[':nowIso'] = now;
    sets.push('#sw = :sw', '#sd = :nowIso');
  }
  const after = await table.update({ Key: key, UpdateExpression: `SET ${sets.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values, ReturnValues: 'ALL_NEW' });
  if (!after) throw new Error('UpdateItem returned no attributes');
  const record = partitionFromItem(after);
  if (!before) await countPartition(table);
  const changed = !before || before.instanceTreeId !== record.instanceTreeId || before.softwareReleaseId !== record.softwareReleaseId || before.periodicitySeconds !== record.periodicitySeconds;
  if (changed) await bumpAssignments(table, [p.computerId]);
  return { created: !existing, record };
}

/** One more partition in the fleet's counter (the summary's total). */
async function countPartition(table: TableClient): Promise<void> {
  await table.update({ Key: keys.summary, UpdateExpression: 'ADD pt :one', ExpressionAttributeValues: { ':one': 1 } });
}

/** Where a partition list reads from: the most selective index for the filters, and what is left to check per item. */
function partitionSource(table: TableClient, f: PartitionFilter): Omit<ListSpec<PartitionRecord>, 'scope' | 'limit' | 'cursor' | 'accept'> & { residual: (p: PartitionRecord) => boolean } {
  const load = loadItems(table, partitionFromItem);
  const checks: ((p: PartitionRecord) => boolean)[] = [];
  const residual = (p: PartitionRecord) => checks.every((c) => c(p));
  const q = (query: QueryInput, bounds: CursorBounds, index?: ListSpec<PartitionRecord>['index']) => ({ query, bounds, ...(index ? { index } : {}) });
  if (f.computerId) checks.push((p) => p.computerId === f.computerId);
  if (f.crimes) checks.push((p) => !!p.crimeState && crimesOf(p.crimeState).length > 0);
  if (f.recordedRed) {
    checks.push((p) => p.colour === 'red');
    if (f.instanceTreeId) checks.push((p) => p.instanceTreeId === f.instanceTreeId);
    const prefix = f.instanceTreeId ? indexKeys.redTreePrefix(f.instanceTreeId) : undefined;
    const query: QueryInput = {
      KeyConditionExpression: prefix ? '#x = :x AND begins_with(#k, :p)' : '#x = :x',
      ExpressionAttributeNames: prefix ? { '#x': A.red, '#k': A.redKey } : { '#x': A.red },
      ExpressionAttributeValues: prefix ? { ':x': INDEX_PK.red, ':p': prefix } : { ':x': INDEX_PK.red },
    };
    return { ...q(query, { fixed: { [A.red]: INDEX_PK.red }, ...(prefix ? { prefixes: { [A.redKey]: prefix } } : {}) }, GSI_RED), load, residual };
  }
  if (f.instanceTreeId) {
    const tree = f.instanceTreeId;
    checks.push((p) => p.instanceTreeId === tree);
    const query = { KeyConditionExpression: '#t = :t', ExpressionAttributeNames: { '#t': A.tree }, ExpressionAttributeValues: { ':t': tree } };
    return { ...q(query, { fixed: { [A.tree]: tree } }, GSI_TREE), load, residual };
  }
  if (f.computerId) {
    const pk = keys.computerPartitionsPk(f.computerId);
    return { ...q(computerPartitionsQuery(f.computerId), { fixed: { pk }, prefixes: { sk: keys.partitionSkPrefix } }), load: mapItems(partitionFromItem), residual };
  }
  if (f.crimes) {
    const query = { KeyConditionExpression: '#x = :x', ExpressionAttributeNames: { '#x': A.crimes }, ExpressionAttributeValues: { ':x': INDEX_PK.crimes } };
    return { ...q(query, { fixed: { [A.crimes]: INDEX_PK.crimes } }, GSI_CRIMES), load, residual };
  }
  const query = { KeyConditionExpression: '#l = :l', ExpressionAttributeNames: { '#l': A.list }, ExpressionAttributeValues: { ':l': INDEX_PK.list } };
  return { ...q(query, { fixed: { [A.list]: INDEX_PK.list } }, GSI_PARTITIONS), load, residual };
}

function filterScope(f: PartitionFilter): string {
  return `partitions?tree=${f.instanceTreeId ?? ''}&computer=${f.computerId ?? ''}&red=${f.recordedRed ? 1 : 0}&crimes=${f.crimes ? 1 : 0}`;
}

function listPartitions(table: TableClient, f: PartitionFilter, page: ListRequest<PartitionRecord>) {
  const { residual, ...source } = partitionSource(table, f);
  const outer = page.accept;
  const accept: Accept<PartitionRecord> = (p) => (!residual(p) ? 'skip' : outer ? outer(p) : 'take');
  // an index entry may lag its item (eventually consistent): every item is checked again
  // residual checks that drop items: the computer (on another index), crimes (on the red index), the service's colour
  const filtered = !!(page.filtered || (f.computerId && (f.instanceTreeId || f.recordedRed)) || (f.crimes && (f.instanceTreeId || f.recordedRed || f.computerId)));
  return table.listPage({
    ...source,
    scope: filterScope(f),
    limit: page.limit,
    cursor: page.cursor,
    accept,
    filtered,
    ...(filtered ? { budget: Math.max(page.limit, 100) * FILTER_BUDGET_PER_ITEM } : {}),
  });
}

export function partitionStore(table: TableClient): PartitionStore {
  return {
    putPartition: (p, now, initial) => putPartition(table, p, now, initial),

    async getPartition(partitionId) {
      const i = await findPartitionItem(table, partitionId);
      return i ? partitionFromItem(i) : null;
    },

    listPartitions: (filter, page) => listPartitions(table, filter, page),

    countTreePartitions: (instanceTreeId) =>
      table.count({ IndexName: GSI_TREE, KeyConditionExpression: '#t = :t', ExpressionAttributeNames: { '#t': A.tree }, ExpressionAttributeValues: { ':t': instanceTreeId } }),

    async treeRed(instanceTreeId) {
      const entries = await table.queryAll({
        IndexName: GSI_RED,
        KeyConditionExpression: '#x = :x AND begins_with(#k, :p)',
        ExpressionAttributeNames: { '#x': A.red, '#k': A.redKey },
        ExpressionAttributeValues: { ':x': INDEX_PK.red, ':p': indexKeys.redTreePrefix(instanceTreeId) },
      });
      const [firstEntry] = entries;
      const [first] = firstEntry ? await loadItems(table, partitionFromItem)([firstEntry]) : [];
      return { count: entries.length, first: first ?? null };
    },

    async pageTreePartitions(instanceTreeId, cursor, limit = 500) {
      const refOf = (i: Item): PartitionRef | null => keys.partitionRef(i.pk, i.sk);
      return table.listPage<PartitionRef>({
        scope: `tree-refs?${instanceTreeId}`,
        index: GSI_TREE,
        query: { KeyConditionExpression: '#t = :t', ExpressionAttributeNames: { '#t': A.tree }, ExpressionAttributeValues: { ':t': instanceTreeId } },
        bounds: { fixed: { [A.tree]: instanceTreeId } },
        load: async (entries) => entries.map(refOf),
        limit,
        cursor,
      });
    },
  };
}

