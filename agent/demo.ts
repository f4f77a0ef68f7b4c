// The demo agent of `vigil master --demo`: copies the example partitions of examples/demo/
// into a working instance root and runs the agent loop over them in-process, with a short
// interval, so a newcomer sees green, red, a bang and the re-instantiation of the tree.
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMasterClient } from './client.ts';
import { createLogger, type Logger } from './log.ts';
import { Agent, DEFAULT_SETTINGS } from './loop.ts';
import { readTokenFile } from './token.ts';

export interface DemoAgentOptions {
  masterUrl: string;
  computerId: string;
  /** the computer token, or a file holding it (mode 600) */
  token?: string;
  tokenFile?: string;
  /** working copy of the demo partitions (wiped and re-copied at start) */
  instanceRoot: string;
  /** seconds between cycles (default 10) */
  intervalSeconds?: number;
  /** where examples/demo is (default: found from this module upwards) */
  examplesDir?: string;
  log?: Logger;
}

export interface DemoAgent {
  instanceRoot: string;
  partitions: string[];
  stop(): Promise<void>;
}

/** The directory holding the demo partitions (examples/demo of the package). */
export function findDemoExamples(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'examples', 'demo');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('examples/demo not found next to the vigil package');
}

export async function startDemoAgent(opts: DemoAgentOptions): Promise<DemoAgent> {
  const examples = resolve(opts.examplesDir ?? findDemoExamples());
  const root = resolve(opts.instanceRoot);
  const partitions = readdirSync(examples, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const p of partitions) {
    rmSync(join(root, p), { recursive: true, force: true });
    cpSync(join(examples, p), join(root, p), { recursive: true });
  }
  const token = opts.token ?? (opts.tokenFile ? readTokenFile(opts.tokenFile) : undefined);
  if (!token) throw new Error('startDemoAgent: give token or tokenFile');
  const log = opts.log ?? createLogger({ write: (l) => process.stderr.write(`[demo agent] ${l}`) });
  const agent = new Agent(
    {
      ...DEFAULT_SETTINGS,
      masterUrl: opts.masterUrl,
      computerId: opts.computerId,
      instanceRoot: root,
      intervalMs: (opts.intervalSeconds ?? 10) * 1000,
      instantiateTimeoutMs: 60_000,
      backoff: { baseMs: 10_000, maxMs: 60_000 },
    },
    { client: createMasterClient({ masterUrl: opts.masterUrl, computerId: opts.computerId, token, timeoutMs: 5000 }), log },
  );
  const running = agent.run().catch((err: unknown) => {
    log.error(`demo agent stopped: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  });
  return {
    instanceRoot: root,
    partitions,
    stop: async () => {
      agent.stop();
      await running;
    },
  };
}
