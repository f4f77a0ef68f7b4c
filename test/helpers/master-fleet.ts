// Small fleet builders over a TestMaster (admin API through app.request()).
import { vi } from 'vitest';
import { main as adminMain } from '../../functions/local/admin-cli.ts';
import type { TestMaster } from './master.ts';

export async function ok(m: TestMaster, method: string, path: string, body?: unknown, token?: string | null): Promise<any> {
  const r = await m.call(method, path, body, token);
  if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function addSr(m: TestMaster, id: string, extra: { periodicitySeconds?: number; bangQuotaPerDay?: number } = {}): Promise<void> {
  await ok(m, 'PUT', `/v1/software-releases/${id}`, { url: `https://example.com/${id}/software.cfg`, ...extra });
}

/** Registers a computer and returns its token. */
export async function addComputer(m: TestMaster, id: string, instantiationFrequencySeconds?: number): Promise<string> {
  const r = await m.call('PUT', `/v1/computers/${id}`, instantiationFrequencySeconds ? { instantiationFrequencySeconds } : {});
  if (r.status !== 201) throw new Error(`PUT computer ${id} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

export async function addPartition(m: TestMaster, id: string, computerId: string, instanceTreeId: string, softwareReleaseId: string): Promise<void> {
  await ok(m, 'PUT', `/v1/partitions/${id}`, { computerId, instanceTreeId, softwareReleaseId });
}

export function report(
  reportId: string,
  startedAt: Date | string,
  promises: { name: string; failed?: boolean; message?: string; periodicityMinutes?: number }[] = [{ name: 'a.json' }],
  extra: Record<string, unknown> = {},
) {
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
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: any) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: any) => {
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
