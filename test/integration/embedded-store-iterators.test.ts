// The embedded store closes the LevelDB iterator of every Query and Scan (dynalite 4 ends
// its streams with iterator.return(), which abstract-level 3 iterators lack: without the
// fix in embedded-store.ts each one stayed open, and the master's memory grew with the fleet).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStore, startEmbeddedStore } from '../../functions/local/embedded-store.ts';

let dir: string;
let store: EmbeddedStore;
let dynamo: DynamoDBClient;
const TABLE = 'iterators';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-iterators-'));
  store = await startEmbeddedStore({ dataDir: dir });
  dynamo = new DynamoDBClient({ endpoint: `http://127.0.0.1:${store.port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await dynamo.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'g', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [{ IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
    }),
  );
  for (let b = 0; b < 4; b++) {
    const items = Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: { pk: { S: 'p' }, sk: { S: `s${String(b * 25 + i).padStart(3, '0')}` }, g: { S: 'g' } } } }));
    await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: items } }));
  }
});

afterAll(async () => {
  dynamo?.destroy();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const settled = async () => {
  for (let i = 0; i < 100 && store.openIterators() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  return store.openIterators();
};

describe('embedded store: LevelDB iterators', () => {
  it('every Query (read to the end, cut by Limit, on the table and on an index) and Scan closes its iterator', async () => {
    for (let i = 0; i < 50; i++) {
      const all = await dynamo.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'p' } } }));
      expect(all.Items).toHaveLength(100);
      const cut = await dynamo.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'p' } }, Limit: 5 }));
      expect(cut.Items).toHaveLength(5);
      const index = await dynamo.send(new QueryCommand({ TableName: TABLE, IndexName: 'byG', KeyConditionExpression: 'g = :g', ExpressionAttributeValues: { ':g': { S: 'g' } }, Limit: 7 }));
      expect(index.Items).toHaveLength(7);
      const none = await dynamo.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'nobody' } } }));
      expect(none.Items).toHaveLength(0);
      const scan = await dynamo.send(new ScanCommand({ TableName: TABLE, Limit: 3 }));
      expect(scan.Items).toHaveLength(3);
    }
    expect(await settled()).toBe(0);
  });

  it('concurrent reads: none left open', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        dynamo.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'p' } }, Limit: 1 + (i % 10) })),
      ),
    );
    expect(await settled()).toBe(0);
  });
});
