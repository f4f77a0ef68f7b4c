// The lean heartbeat (issue 12): one conditional UpdateItem; the partition assignments come
// from a cache keyed by the computer's assignment version (every change bumps it: a new
// partition, a move, a tree or SR change, an SR periodicity); the reprocess flags are read only
// while the computer's hint is raised, and the hint is never cleared over a newer flag.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fanOutBang } from '../../functions/services/fanout.ts';
import { createTestMaster, type TestMaster } from '../helpers/master.ts';
import { addComputer, addPartition, addSr, report } from '../helpers/master-fleet.ts';

let m: TestMaster;
const tokens: Record<string, string> = {};
const beat = async (c: string) => m.as(tokens[c] as string).heartbeat(c, { agentVersion: '1' });
const reads = () => (m.aws.counter.byCommand().QueryCommand ?? 0) + (m.aws.counter.byCommand().GetItemCommand ?? 0);

beforeAll(async () => {
  m = await createTestMaster({ dashboard: false });
  await addSr(m, 'sr', { periodicitySeconds: 3600 });
  await addSr(m, 'sr2');
  for (const c of ['h1', 'h2']) tokens[c] = await addComputer(m, c);
  await addPartition(m, 'hp1', 'h1', 'ht', 'sr');
  await addPartition(m, 'hp2', 'h2', 'ht', 'sr');
  await beat('h1');
  await beat('h2');
});
afterAll(() => m?.dispose());

describe('assignments', () => {
  it('every change of what the heartbeat answers is seen by the next heartbeat, and only then read', async () => {
    const check = async (c: string, expected: unknown[], read: boolean) => {
      m.aws.counter.reset();
      const hb = await beat(c);
      expect(hb.partitions).toEqual(expected);
      expect(reads() > 0, `${c} read`).toBe(read);
    };
    const p = (partitionId: string, instanceTreeId: string, softwareReleaseId: string, periodicitySeconds: number | null) => ({ partitionId, instanceTreeId, softwareReleaseId, periodicitySeconds });
    await check('h1', [p('hp1', 'ht', 'sr', 3600)], false);
    // a new partition
    await addPartition(m, 'hp3', 'h1', 'ht', 'sr');
    await check('h1', [p('hp1', 'ht', 'sr', 3600), p('hp3', 'ht', 'sr', 3600)], true);
    await check('h1', [p('hp1', 'ht', 'sr', 3600), p('hp3', 'ht', 'sr', 3600)], false);
    // another tree and SR
    await m.api.putPartition('hp3', { computerId: 'h1', instanceTreeId: 'ht2', softwareReleaseId: 'sr2' });
    await check('h1', [p('hp1', 'ht', 'sr', 3600), p('hp3', 'ht2', 'sr2', null)], true);
    // the SR's periodicity (h1 and h2 both have partitions of it)
    await m.api.putSoftwareRelease('sr', { url: 'https://example.com/sr/software.cfg', periodicitySeconds: 600 });
    await check('h1', [p('hp1', 'ht', 'sr', 600), p('hp3', 'ht2', 'sr2', null)], true);
    await check('h2', [p('hp2', 'ht', 'sr', 600)], true);
    // its quota only: nothing to re-read
    await m.api.putSoftwareRelease('sr', { url: 'https://example.com/sr/software.cfg', periodicitySeconds: 600, bangQuotaPerDay: 7 });
    await check('h2', [p('hp2', 'ht', 'sr', 600)], false);
    // a move: both computers
    await m.api.putPartition('hp3', { computerId: 'h2', instanceTreeId: 'ht2', softwareReleaseId: 'sr2' }, { move: true });
    await check('h1', [p('hp1', 'ht', 'sr', 600)], true);
    await check('h2', [p('hp2', 'ht', 'sr', 600), p('hp3', 'ht2', 'sr2', null)], true);
  });
});

describe('reprocess flags', () => {
  it('served while pending, the hint cleared once the agent reported; a heartbeat without hint reads nothing', async () => {
    const msg = { bangId: 'hb-bang', partitionId: 'hp1', computerId: 'h1', instanceTreeId: 'ht', requestedAt: m.clock.now().toISOString(), reason: 'bang from hp1 (manual): x' };
    await fanOutBang({ store: m.store, now: m.clock.now }, msg);
    m.clock.advance(1000);
    expect((await beat('h1')).reprocess.map((r) => r.partitionId)).toEqual(['hp1']);
    expect((await beat('h2')).reprocess.map((r) => r.partitionId)).toEqual(['hp2']);
    expect((await m.store.getComputer('h1'))?.reprocessHint).toBeGreaterThan(0);
    await m.as(tokens.h1 as string).report('hp1', report('after-bang', m.clock.now(), [{ name: 'a.json' }], { reprocessedUpTo: msg.requestedAt }));
    // the heartbeat that finds nothing pending clears the hint; the next one reads no flag
    expect((await beat('h1')).reprocess).toEqual([]);
    expect((await m.store.getComputer('h1'))?.reprocessHint).toBe(0);
    m.aws.counter.reset();
    expect((await beat('h1')).reprocess).toEqual([]);
    expect(m.aws.counter.byCommand()).toEqual({ UpdateItemCommand: 1 });
  });

  it('the hint is not cleared over a flag raised after the heartbeat read the flags', async () => {
    const seen = (await m.store.getComputer('h1'))?.reprocessHint ?? 0;
    await m.store.raiseReprocessHint('h1');
    // a heartbeat that read the flags at `seen`, clearing after the raise: refused
    expect(await m.store.clearReprocessHint('h1', seen)).toBe(false);
    expect((await m.store.getComputer('h1'))?.reprocessHint).toBe(seen + 1);
    expect(await m.store.clearReprocessHint('h1', seen + 1)).toBe(true);
  });

  it('a partition moved with a flag pending: the new computer serves it', async () => {
    const at = m.clock.now().toISOString();
    await m.store.flagReprocess({ computerId: 'h2', partitionId: 'hp3' }, { requestedAt: at, reason: 'moved flag', bangId: 'mv' });
    await m.api.putPartition('hp3', { computerId: 'h1', instanceTreeId: 'ht2', softwareReleaseId: 'sr2' }, { move: true });
    m.clock.advance(1000);
    expect((await beat('h1')).reprocess).toEqual([{ partitionId: 'hp3', requestedAt: at, reason: 'moved flag' }]);
  });
});
