import { expect, it } from 'vitest';
import { bangReason } from '../../functions/domain/bangs.ts';
import { BANG_REASON_MAX } from '../../protocol/limits.ts';
import { parseBangMessage } from '../../functions/services/bang-message.ts';

it('bangReason names the partition and source, and keeps the end of a long message', () => {
  expect(bangReason({ partitionId: 'p1', source: 'promise', message: 'disk full' })).toBe('bang from p1 (promise): disk full');
  const long = bangReason({ partitionId: 'p1', source: 'watchdog', message: `${'x'.repeat(1000)}THE END` });
  expect(long).toHaveLength(BANG_REASON_MAX);
  expect(long.startsWith('bang from p1 (watchdog): x')).toBe(true);
  expect(long.endsWith('THE END')).toBe(true);
});

it('parseBangMessage refuses a message without its ids', () => {
  expect(() => parseBangMessage('{"bangId":"b"}')).toThrow();
  expect(parseBangMessage(JSON.stringify({ bangId: 'b', partitionId: 'p', computerId: 'c', instanceTreeId: 't', requestedAt: 'now', reason: 'r' })).bangId).toBe('b');
});
