// Records the IAM actions (and index names) a DynamoDB client really uses, to check that the
// Lambda roles of lib/ (TABLE_ACCESS) allow every request a handler makes.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const DOC_TO_ACTION: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

export interface AccessLog {
  actions: Set<string>;
  indexes: Set<string>;
  reset(): void;
}

export function recordDynamoAccess(client: DynamoDBClient): AccessLog {
  const log: AccessLog = {
    actions: new Set(),
    indexes: new Set(),
    reset() {
      log.actions.clear();
      log.indexes.clear();
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName ?? '').replace(/Command$/, '');
      log.actions.add(`dynamodb:${DOC_TO_ACTION[name] ?? name}`);
      const index = (args.input as { IndexName?: string }).IndexName;
      if (index) log.indexes.add(index);
      return next(args);
    },
    { step: 'initialize', name: 'vigilAccessLog' },
  );
  return log;
}
