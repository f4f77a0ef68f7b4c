// The local master's bang queue behaves as the AWS one: a message the consumer cannot handle
// (malformed) is never dropped silently; it is logged at each receive and, after the stack's
// receive limit, moved to the dead-letter queue. Good messages are fanned out and deleted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BANG_QUEUE_MAX_RECEIVE_COUNT } from '../../lib/constructs/bang-queue.ts';
import { type LocalMaster, startLocalMaster } from '../../functions/local/master.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-local-queue-'));
const lines: string[] = [];
let master: LocalMaster;
let sqs: SQSClient;

beforeAll(async () => {
  master = await startLocalMaster({ port: 0, dataDir: dir, adminToken: 'local-queue-admin', bangVisibilityTimeoutSeconds: 1, log: (l) => lines.push(l) });
  sqs = new SQSClient({ endpoint: master.bangQueue.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(async () => {
  sqs?.destroy();
  await master?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it(`a malformed bang message is logged at each receive and dead-lettered after ${BANG_QUEUE_MAX_RECEIVE_COUNT} receives`, async () => {
  await sqs.send(new SendMessageCommand({ QueueUrl: master.bangQueue.url, MessageBody: '{"poison":true}' }));
  let dead: string[] = [];
  const deadline = Date.now() + 30_000;
  while (dead.length === 0 && Date.now() < deadline) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: master.bangQueue.deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    dead = (r.Messages ?? []).map((m) => m.Body ?? '');
  }
  expect(dead).toEqual(['{"poison":true}']);
  const logged = lines.filter((l) => l.includes('malformed bang message'));
  expect(logged).toHaveLength(BANG_QUEUE_MAX_RECEIVE_COUNT);
  expect(logged[0]).toMatch(/the message stays queued, dead-lettered after \d+ receives/);
}, 60_000);
