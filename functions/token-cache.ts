// The computer tokens' hashes this process has seen in the store (in memory, per process: per
// warm Lambda container). A heartbeat or report whose token hash is the one known for its
// computer is checked by the store's own conditional write, with no read; a token whose hash
// differs from the known one (forged, or an old one) is refused with no read for
// TOKEN_RECHECK_MS after the last look-up, then looked up once again (a token rotated through
// another process works within that time). So a flood of forged tokens costs at most one read
// per computer id every TOKEN_RECHECK_MS, and none for ids looked up recently.

/** How long a computer's hash is trusted to refuse another token without a look-up. */
export const TOKEN_RECHECK_MS = 5_000;
/** Computers remembered (the oldest dropped first). */
export const TOKEN_CACHE_MAX = 20_000;

import { sameHash } from './auth.ts';

interface Entry {
  /** The stored hash, null: no such computer. */
  hash: string | null;
  /** Until when a different hash is refused without a look-up. */
  recheckAfter: number;
}

export type TokenCheck = 'valid' | 'refused' | 'unknown';

export class ComputerTokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<string | null>>();

  /** One look-up of a computer's hash at a time (concurrent requests for one id share it), learnt. */
  async lookUp(computerId: string, nowMs: number, fetch: () => Promise<string | null>): Promise<void> {
    let p = this.inFlight.get(computerId);
    if (!p) {
      p = fetch().finally(() => this.inFlight.delete(computerId));
      this.inFlight.set(computerId, p);
      this.learn(computerId, await p, nowMs);
      return;
    }
    await p;
  }

  /** valid: the hash known for the computer; refused: known to differ (looked up recently); unknown: look it up. */
  check(computerId: string, tokenHash: string, nowMs: number): TokenCheck {
    const e = this.entries.get(computerId);
    if (!e) return 'unknown';
    if (e.hash && sameHash(e.hash, tokenHash)) return 'valid';
    return nowMs < e.recheckAfter ? 'refused' : 'unknown';
  }

  /** What the store says the computer's hash is (null: no such computer), as of `nowMs`. */
  learn(computerId: string, hash: string | null, nowMs: number): void {
    this.entries.delete(computerId);
    if (this.entries.size >= TOKEN_CACHE_MAX) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(computerId, { hash, recheckAfter: nowMs + TOKEN_RECHECK_MS });
  }

  forget(computerId: string): void {
    this.entries.delete(computerId);
  }
}
