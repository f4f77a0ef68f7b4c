// The demo fleet of `vigil master --demo`: a software release, a computer (a fresh token at
// every start, written to a token file for the demo agent) and an instance tree of three
// partitions, registered through the same services as the admin API.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceDeps } from '../services/deps.ts';
import { assignPartition, putSoftwareRelease, registerComputer, rotateComputerToken } from '../services/registry.ts';

export interface DemoFleet {
  softwareReleaseId: string;
  computerId: string;
  instanceTreeId: string;
  partitionIds: string[];
  /** File holding the demo computer's token. */
  tokenFile: string;
  token: string;
}

export async function seedDemo(deps: Pick<ServiceDeps, 'store' | 'now'>, dataDir: string): Promise<DemoFleet> {
  const demo = {
    softwareReleaseId: 'demo-sr',
    computerId: 'demo-computer',
    instanceTreeId: 'demo-tree',
    partitionIds: ['demo-web', 'demo-db', 'demo-worker'],
    tokenFile: join(dataDir, 'demo-computer.token'),
  };
  if (!(await deps.store.getSoftwareRelease(demo.softwareReleaseId))) {
    await putSoftwareRelease(deps, demo.softwareReleaseId, { url: 'https://example.com/software/demo/software.cfg', periodicitySeconds: 3600, bangQuotaPerDay: 24 });
  }
  // A fresh token at every start (written to the token file): the demo agent uses it.
  const registered = (await deps.store.getComputer(demo.computerId)) ? null : await registerComputer(deps, demo.computerId, {});
  const token = registered?.outcome === 'registered' ? registered.token : await rotateComputerToken(deps, demo.computerId);
  if (!token) throw new Error(`demo computer ${demo.computerId} vanished while seeding`);
  writeFileSync(demo.tokenFile, `${token.token}\n`, { mode: 0o600 });
  for (const partitionId of demo.partitionIds) {
    if (!(await deps.store.getPartition(partitionId))) {
      await assignPartition(deps, partitionId, { computerId: demo.computerId, instanceTreeId: demo.instanceTreeId, softwareReleaseId: demo.softwareReleaseId }, false);
    }
  }
  return { ...demo, token: token.token };
}
