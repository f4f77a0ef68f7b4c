// Dashboard login sessions (pk S#<sha-256 of the session id>), expiring with the TTL.
import { keys } from '../table.ts';
import type { SessionStore } from '../types.ts';
import { sessionFromItem } from './items.ts';
import type { TableClient } from './table-client.ts';

export function sessionStore(table: TableClient): SessionStore {
  return {
    async createSession(session) {
      if (!(await table.create({ ...keys.session(session.sessionKey), ...session }))) {
        throw new Error('a session with this key exists already');
      }
    },
    async getSession(sessionKey) {
      const i = await table.get(keys.session(sessionKey));
      return i ? sessionFromItem(sessionKey, i) : null;
    },
    deleteSession: (sessionKey) => table.delete(keys.session(sessionKey)),
  };
}
