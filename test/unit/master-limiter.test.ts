// The failure limiter's buckets and address keys (functions/limiter.ts) on a settable clock;
// the limiter in the running master: test/integration/master-robustness.test.ts (item 6).
import { describe, expect, it } from 'vitest';
import { addressKey, FailureLimiter } from '../../functions/limiter.ts';

describe('failure limiter', () => {
  it('10 failures per address, then 429 until one refills (6 s); other addresses unaffected', () => {
    let t = 0;
    const l = new FailureLimiter({ nowMs: () => t });
    const answers = Array.from({ length: 12 }, () => l.fail('192.0.2.1'));
    expect(answers.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(answers.slice(10).every((s) => s >= 1 && s <= 6)).toBe(true);
    expect(l.guessesBlocked('192.0.2.1')).toBeGreaterThan(0);
    expect(l.guessesBlocked('192.0.2.2')).toBe(0);
    expect(l.fail('192.0.2.2')).toBe(0);
    t += 6_000;
    expect(l.guessesBlocked('192.0.2.1')).toBe(0);
    expect(l.fail('192.0.2.1')).toBe(0);
    expect(l.fail('192.0.2.1')).toBeGreaterThan(0);
  });

  it('global budget: past it every failure is 429; only addresses that failed lose admin comparisons', () => {
    let t = 0;
    const l = new FailureLimiter({ nowMs: () => t, globalBurst: 20, globalRefillMs: 1000 });
    for (let i = 0; i < 20; i++) expect(l.fail(`198.51.100.${i}`)).toBe(0);
    expect(l.fail('198.51.100.200')).toBeGreaterThan(0);
    expect(l.guessesBlocked('198.51.100.3')).toBeGreaterThan(0);
    expect(l.guessesBlocked('198.51.100.201')).toBe(0);
    t += 1_000;
    expect(l.fail('198.51.100.202')).toBe(0);
  });

  it('forgets the least recently failing address past its capacity', () => {
    const l = new FailureLimiter({ nowMs: () => 0, maxAddresses: 3, globalBurst: 1000 });
    for (let i = 0; i < 10; i++) l.fail('10.0.0.1');
    expect(l.guessesBlocked('10.0.0.1')).toBeGreaterThan(0);
    for (const a of ['10.0.0.2', '10.0.0.3', '10.0.0.4']) l.fail(a);
    expect(l.guessesBlocked('10.0.0.1')).toBe(0);
  });

  it('address keys: IPv4 (also mapped) as is, IPv6 by /64', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::99')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});
