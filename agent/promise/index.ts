// `vigil/promise`: what a plugin module imports.
//   import { GenericPromise, TestResult, AnomalyResult } from 'vigil/promise';
export {
  GenericPromise,
  type PromiseConfig,
  type PromiseLogger,
  type PromiseRunOutcome,
} from './generic.ts';
export {
  type CheckOptions,
  checkRuns,
  type LastResultOptions,
  type LogLevel,
  type LogLine,
  type PromiseLogEntry,
  readLastRuns,
  readRun,
} from './log.ts';
export { AnomalyResult, BaseResult, capMessage, MESSAGE_CAP, type ResultInit, TestResult } from './result.ts';
