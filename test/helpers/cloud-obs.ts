// Powertools logger + metrics for handler tests: what they would print to CloudWatch is
// captured in arrays (EMF metric documents and structured log lines) instead of stdout.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Observability } from '../../functions/handlers/runtime.ts';

/** A structured log line (Powertools JSON). */
export type LogLine = { level?: string; message?: string; [key: string]: unknown };
/** An EMF document: metric values by name, and the `_aws` metadata. */
export type EmfDocument = { _aws?: { CloudWatchMetrics?: { Namespace?: string }[] }; [key: string]: unknown };

export interface CapturedObservability extends Observability {
  logs: LogLine[];
  emf: EmfDocument[];
  /** Sum of a metric's values over every published EMF document. */
  metric(name: string): number;
}

export function captureObservability(service: string): CapturedObservability {
  const logs: LogLine[] = [];
  const emf: EmfDocument[] = [];
  const sink = (arr: Record<string, unknown>[]) => ({
    log: (s: string) => arr.push(JSON.parse(s)),
    info: (s: string) => arr.push(JSON.parse(s)),
    warn: (s: unknown) => arr.push(typeof s === 'string' && s.startsWith('{') ? JSON.parse(s) : { level: 'WARN', message: String(s) }),
    error: (s: string) => arr.push(JSON.parse(s)),
    debug: (s: string) => arr.push(JSON.parse(s)),
    trace: (s: string) => arr.push(JSON.parse(s)),
  });
  const logger = new Logger({ serviceName: service, logLevel: 'INFO' });
  (logger as unknown as { console: unknown }).console = sink(logs);
  const metrics = new Metrics({ namespace: 'Vigil', serviceName: service, logger: sink(logs) as never });
  (metrics as unknown as { console: unknown }).console = sink(emf);
  return {
    logger,
    metrics,
    logs,
    emf,
    metric: (name) =>
      emf.reduce((sum, doc) => {
        const v = doc[name];
        return sum + (typeof v === 'number' ? v : Array.isArray(v) ? v.reduce((a: number, b: number) => a + b, 0) : 0);
      }, 0),
  };
}
