// Small fleet builders over a TestMaster (admin API through the typed client, in process).
import { vi } from 'vitest';
import { main as adminMain } from '../../functions/local/admin-cli.ts';
import type { ReportRequest } from '../../protocol/index.ts';
import type { TestMaster } from './master.ts';

export async function addSr(m: TestMaster, id: string, extra: { periodicitySeconds?: number; bangQuotaPerDay?: number } = {}): Promise<void> {
  await m.api.putSoftwareRelease(id, { url: `https://example.com/${id}/software.cfg`, ...extra });
}

/** Registers a computer and returns its token. */
export async function addComputer(m: TestMaster, id: string, instantiationFrequencySeconds?: number): Promise<string> {
  const r = await m.api.putComputer(id, instantiationFrequencySeconds ? { instantiationFrequencySeconds } : {});
  if (!r.created) throw new Error(`PUT computer ${id}: it existed already`);
  return r.token.token;
}

export async function addPartition(m: TestMaster, id: string, computerId: string, instanceTreeId: string, softwareReleaseId: string): Promise<void> {
  await m.api.putPartition(id, { computerId, instanceTreeId, softwareReleaseId });
}

export function report(
  reportId: string,
  startedAt: Date | string,
  promises: { name: string; failed?: boolean; message?: string; periodicityMinutes?: number }[] = [{ name: 'a.json' }],
  extra: Partial<ReportRequest> = {},
): ReportRequest {
  const at = new Date(startedAt).toISOString();
  return {
    reportId,
    kind: 'instantiation',
    startedAt: at,
    durationMs: 1200,
    ok: promises.every((p) => !p.failed),
    promises: promises.map((p) => ({
      name: p.name,
      title: p.name.replace(/\.[^.]*$/, ''),
      kind: 'test',
      failed: !!p.failed,
      message: p.message ?? (p.failed ? 'it failed' : 'kept'),
      date: at,
      executionTimeMs: 5,
      ...(p.periodicityMinutes === undefined ? {} : { periodicityMinutes: p.periodicityMinutes }),
    })),
    ...extra,
  };
}

/** Runs `vigil admin` in process against `url`, capturing what it prints. */
export async function runAdmin(url: string, token: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  try {
    return { code: await adminMain(['--master', url, '--token', token, ...args]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
