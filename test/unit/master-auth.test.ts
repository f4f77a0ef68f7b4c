import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bearer, newComputerToken, sameHash, sha256Hex, tokenComputerId, tokenMatches } from '../../functions/auth.ts';

describe('tokens', () => {
  it('a computer token names its computer and matches only its own hash', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,60}$/), (id) => {
        const t = newComputerToken(id);
        expect(tokenComputerId(t)).toBe(id);
        expect(tokenMatches(t, sha256Hex(t))).toBe(true);
        expect(tokenMatches(newComputerToken(id), sha256Hex(t))).toBe(false);
      }),
      { numRuns: 50 },
    );
  });
  it('rejects malformed tokens and headers', () => {
    for (const t of ['', 'abc', 'vc1..x', 'vc2.YQ.x', 'vc1.YQ', 'va1.secret']) expect(tokenComputerId(t)).toBeNull();
    expect(tokenMatches('x', null)).toBe(false);
    expect(sameHash('00', sha256Hex('a'))).toBe(false);
    expect(bearer('Bearer abc')).toBe('abc');
    expect(bearer('bearer   abc ')).toBe('abc');
    expect(bearer('Basic abc')).toBeNull();
    expect(bearer('Bearer a b')).toBeNull();
    expect(bearer(undefined)).toBeNull();
  });
});
