// What every service is a function of: the store, the bang queue and the master's clock
// (plus options). Services return plain results (discriminated unions for outcomes); HTTP,
// Lambda and the local master only translate them.
import type { Store } from '../store/types.ts';
import type { BangMessage } from './bang-message.ts';
import type { NotifyDeps } from './notify-deps.ts';

/** Where accepted bangs go to be fanned out (SQS in AWS and locally). */
export interface BangQueue {
  send(message: BangMessage): Promise<void>;
}

export interface ServiceDeps {
  store: Store;
  queue: BangQueue;
  /** The master's clock. */
  now: () => Date;
  /** How long promise history is kept (TTL), default 7 days. */
  historyTtlSeconds?: number;
  /** Where unexpected errors go (default: console.error). */
  logError?: (message: string, err: unknown) => void;
  /** Notifications: public URL for links, the delivery worker's wake-up (services/notify-deps.ts). */
  notify?: NotifyDeps;
}

export const defaultLogError = (message: string, err: unknown): void => console.error(message, err);
