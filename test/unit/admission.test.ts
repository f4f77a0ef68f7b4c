import { describe, expect, it } from 'vitest';
import { createGate, isPriorityRequest } from '../../functions/local/admission.ts';

/** A request held until `finish()` is called. */
function held() {
  let finish!: () => void;
  const ended = new Promise<void>((r) => {
    finish = r;
  });
  let started = false;
  return {
    start: () => {
      started = true;
      return ended;
    },
    finish: () => finish(),
    get started() {
      return started;
    },
  };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('admission gate of the local master', () => {
  it('runs `limit` ordinary requests at once, the next ones in arrival order as slots free', async () => {
    const gate = createGate(2);
    const rs = Array.from({ length: 5 }, held);
    for (const r of rs) gate.admit(false, r.start);
    expect(rs.map((r) => r.started)).toEqual([true, true, false, false, false]);
    expect([gate.running, gate.waiting]).toEqual([2, 3]);
    rs[1]?.finish();
    await tick();
    expect(rs.map((r) => r.started)).toEqual([true, true, true, false, false]);
    rs[0]?.finish();
    rs[2]?.finish();
    await tick();
    expect(rs.map((r) => r.started)).toEqual([true, true, true, true, true]);
    rs[3]?.finish();
    rs[4]?.finish();
    await tick();
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });

  it('a priority request runs at once with every slot taken, and takes no slot', async () => {
    const gate = createGate(1);
    const a = held();
    const b = held();
    const beat = held();
    gate.admit(false, a.start);
    gate.admit(false, b.start);
    gate.admit(true, beat.start);
    expect([a.started, b.started, beat.started]).toEqual([true, false, true]);
    beat.finish();
    await tick();
    expect(b.started).toBe(false);
    a.finish();
    await tick();
    expect(b.started).toBe(true);
  });

  it('a request that failed frees its slot; one whose client went away while waiting is skipped', async () => {
    const gate = createGate(1);
    let fail!: (e: Error) => void;
    gate.admit(false, () => new Promise<void>((_, reject) => {
      fail = reject;
    }));
    const gone = held();
    const next = held();
    let clientGone = false;
    gate.admit(false, gone.start, () => clientGone);
    gate.admit(false, next.start);
    clientGone = true;
    fail(new Error('handler failed'));
    await tick();
    expect([gone.started, next.started]).toEqual([false, true]);
    expect([gate.running, gate.waiting]).toEqual([1, 0]);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => createGate(0)).toThrow(RangeError);
    expect(() => createGate(1.5)).toThrow(RangeError);
  });

  it('priority: POST heartbeat and bang, GET /healthz; nothing else', () => {
    expect(isPriorityRequest('POST', '/v1/computers/COMP-1/heartbeat')).toBe(true);
    expect(isPriorityRequest('POST', '/v1/partitions/p-1/bang')).toBe(true);
    expect(isPriorityRequest('GET', '/healthz')).toBe(true);
    expect(isPriorityRequest('GET', '/healthz?x=1')).toBe(true);
    for (const [m, u] of [
      ['POST', '/v1/partitions/p-1/reports'],
      ['GET', '/v1/computers/COMP-1/heartbeat'],
      ['GET', '/v1/partitions'],
      ['POST', '/v1/computers/a/b/heartbeat'],
      ['POST', '/v1/computers/COMP-1/heartbeat/x'],
      ['PUT', '/v1/partitions/p-1/bang'],
      ['GET', '/'],
      [undefined, undefined],
    ] as const) {
      expect(isPriorityRequest(m, u), `${m} ${u}`).toBe(false);
    }
  });
});
