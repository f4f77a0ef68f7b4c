// The stock plugins, by name (`{"plugin": "<name>", "config": {...}}` in etc/plugin/<x>.json).
import type { GenericPromise, PromiseConfig } from '../promise/index.ts';
import CheckCertificate from './check-certificate.ts';
import CheckCommandExecute from './check-command-execute.ts';
import CheckErrorOnHttpLog from './check-error-on-http-log.ts';
import CheckFileState from './check-file-state.ts';
import CheckFreeDiskSpace from './check-free-disk-space.ts';
import CheckServiceState from './check-service-state.ts';
import CheckSocketListening from './check-socket-listening.ts';
import CheckUrlAvailable from './check-url-available.ts';

export { stockPluginNames } from './names.ts';

export const stockPlugins: Record<string, new (config: PromiseConfig) => GenericPromise> = {
  'check-url-available': CheckUrlAvailable,
  'check-socket-listening': CheckSocketListening,
  'check-command-execute': CheckCommandExecute,
  'check-file-state': CheckFileState,
  'check-free-disk-space': CheckFreeDiskSpace,
  'check-certificate': CheckCertificate,
  'check-error-on-http-log': CheckErrorOnHttpLog,
  'check-service-state': CheckServiceState,
};
