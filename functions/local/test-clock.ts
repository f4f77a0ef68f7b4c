// Test knobs of `vigil master`, from the environment only (never on a command line an
// operator reads): end-to-end tests drive the master's clock and its sweep from outside the
// process, to see what a fleet does over minutes or hours in seconds.
//   VIGIL_TEST_CLOCK_FILE=F   the master's clock is the system clock plus the number of
//                             milliseconds written in F (re-read when F changes; missing or
//                             unreadable: 0)
//   VIGIL_SWEEP_INTERVAL_MS=N the sweep every N ms instead of every minute (at least 100)
import { readFileSync, statSync } from 'node:fs';
import type { LocalMasterOptions } from './master.ts';

type Env = Record<string, string | undefined>;

/** The master's clock: the system clock moved by the offset in `file`. */
export function offsetClock(file: string): () => Date {
  let seen = -1;
  let offset = 0;
  return () => {
    try {
      const mtime = statSync(file).mtimeMs;
      if (mtime !== seen) {
        seen = mtime;
        const n = Number(readFileSync(file, 'utf8').trim());
        offset = Number.isFinite(n) ? n : 0;
      }
    } catch {
      offset = 0;
    }
    return new Date(Date.now() + offset);
  };
}

/** The options the test knobs set (none when they are not set). */
export function testKnobs(env: Env): Pick<LocalMasterOptions, 'now' | 'sweepIntervalMs'> {
  const file = env.VIGIL_TEST_CLOCK_FILE;
  const interval = Number(env.VIGIL_SWEEP_INTERVAL_MS);
  return {
    ...(file ? { now: offsetClock(file) } : {}),
    ...(Number.isInteger(interval) && interval >= 100 ? { sweepIntervalMs: interval } : {}),
  };
}
