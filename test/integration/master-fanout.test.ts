// Bang fan-out to a 1,000-partition tree: paged, parallel, idempotent, timed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fanOutBang } from '../../functions/services/fanout.ts';
import { assignPartition } from '../../functions/services/registry.ts';
import { mapLimit } from '../../functions/lib/concurrency.ts';
import { createTestMaster, type TestMaster } from '../helpers/master.ts';
import { addComputer, addSr } from '../helpers/master-fleet.ts';

const N = 1000;
let m: TestMaster;
const tokens: string[] = [];
beforeAll(async () => {
  m = await createTestMaster({ dashboard: false });
  await addSr(m, 'big-sr', { bangQuotaPerDay: 5 });
  for (let c = 0; c < 10; c++) tokens.push(await addComputer(m, `node-${c}`));
  await mapLimit(
    Array.from({ length: N }, (_, i) => i),
    16,
    async (i) => {
      const r = await assignPartition(m.deps, `big-${String(i).padStart(4, '0')}`, { computerId: `node-${i % 10}`, instanceTreeId: 'big-tree', softwareReleaseId: 'big-sr' }, true);
      if ('missing' in r) throw new Error(`missing ${r.missing}`);
    },
  );
}, 120_000);
afterAll(() => m?.dispose());

it(`bang → all ${N} partitions of the tree flagged for reprocess, once`, async () => {
  const bang = await m.call('POST', '/v1/partitions/big-0000/bang', { bangId: 'big-bang', message: 'boom', source: 'promise' }, tokens[0]);
  expect(bang.status).toBe(202);
  expect(bang.body).toMatchObject({ fannedOutTo: N });
  const requestedAt = m.clock.now().toISOString();
  const message = { bangId: 'big-bang', partitionId: 'big-0000', computerId: 'node-0', instanceTreeId: 'big-tree', requestedAt, reason: 'boom' };
  // Small pages prove the paging; the store default page is 500.
  const store = { ...m.store, pageTreePartitions: (t: string, c?: string) => m.store.pageTreePartitions(t, c, 150) };
  const t0 = performance.now();
  const r = await fanOutBang({ store, now: m.clock.now }, message);
  const ms = performance.now() - t0;
  console.log(`fan-out of ${N} partitions (DynamoDB Local): ${ms.toFixed(0)} ms`);
  expect(r).toEqual({ total: N, flagged: N, skipped: false });
  // Every partition is flagged: each computer's heartbeat returns its 100 partitions.
  for (let c = 0; c < 10; c++) {
    const hb = await m.as(tokens[c]!).heartbeat(`node-${c}`, { agentVersion: '1' });
    expect(hb.reprocess).toHaveLength(N / 10);
    expect(hb.reprocess.every((x) => x.requestedAt === requestedAt)).toBe(true);
  }
  // Redelivery after completion: skipped. Redelivery before completion: flags nothing new.
  expect((await fanOutBang({ store, now: m.clock.now }, message)).skipped).toBe(true);
  const again = await fanOutBang({ store, now: m.clock.now }, { ...message, bangId: 'unrecorded' , requestedAt });
  expect(again).toEqual({ total: N, flagged: 0, skipped: false });
});
