// Names of the stock plugins (kept apart from their code so the launcher stays light).
export const stockPluginNames: readonly string[] = [
  'check-url-available',
  'check-socket-listening',
  'check-command-execute',
  'check-file-state',
  'check-free-disk-space',
  'check-certificate',
  'check-error-on-http-log',
  'check-service-state',
];
