import { describe, expect, it } from 'vitest';
import { BangRequest, HeartbeatResponse, Id, PartitionPut, ReportRequest, SoftwareReleasePut } from '../../protocol/index.ts';

const report = {
  reportId: 'r-1',
  kind: 'instantiation',
  startedAt: '2025-01-01T00:00:00.000Z',
  durationMs: 1234,
  ok: true,
  promises: [{ name: 'a.json', title: 'a', kind: 'test', failed: false, message: 'ok', date: '2025-01-01T00:00:01Z', executionTimeMs: 3 }],
};

describe('protocol schemas', () => {
  it('accept the SPEC shapes', () => {
    expect(ReportRequest.parse(report).promises).toHaveLength(1);
    expect(BangRequest.parse({ bangId: 'b1', message: 'x', source: 'watchdog' }).source).toBe('watchdog');
    expect(PartitionPut.parse({ computerId: 'c', instanceTreeId: 't', softwareReleaseId: 's' })).toBeTruthy();
    expect(
      HeartbeatResponse.parse({
        serverTime: '2025-01-01T00:00:00.000Z',
        reprocess: [{ partitionId: 'p', requestedAt: '2025-01-01T00:00:00.000Z', reason: 'bang' }],
        partitions: [{ partitionId: 'p', instanceTreeId: 't', softwareReleaseId: 's', periodicitySeconds: null }],
      }).reprocess,
    ).toHaveLength(1);
  });
  it('reject bad input naming the field', () => {
    const r = ReportRequest.safeParse({ ...report, kind: 'nope' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['kind']);
    const r2 = ReportRequest.safeParse({ ...report, promises: [{ ...report.promises[0], failed: 'no' }] });
    expect(r2.error?.issues[0]?.path).toEqual(['promises', 0, 'failed']);
    expect(SoftwareReleasePut.safeParse({ url: 'x', bangQuotaPerDay: -1 }).error?.issues[0]?.path).toEqual(['bangQuotaPerDay']);
    expect(BangRequest.safeParse({ bangId: 'b', message: 'm', source: 'cron' }).success).toBe(false);
  });
  it('ids cannot carry key separators', () => {
    for (const bad of ['', 'a#b', 'a/b', ' a', '-a', 'x'.repeat(129)]) expect(Id.safeParse(bad).success).toBe(false);
    for (const good of ['a', 'slappart0', 'COMP-1234', 'a.b_c-d:e@f']) expect(Id.safeParse(good).success).toBe(true);
  });
});
