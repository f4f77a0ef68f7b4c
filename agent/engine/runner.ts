// The plugin runner: a small Node process that runs plugin promises one at a time for the
// engine (IPC messages RunnerJob -> RunnerReply). The engine kills its whole process group
// on timeout and replaces it when it dies, so a crashing or hanging plugin takes nothing
// else down.
//
// `vigil/promise` is mapped by a module resolve hook to the very module this runner uses,
// so `instanceof GenericPromise` holds between plugin modules and the runner.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { stockPlugins } from '../plugins/index.ts';
import { GenericPromise } from '../promise/index.ts';
import type { RunnerJob, RunnerReply } from './types.ts';

const fromSources = import.meta.url.endsWith('.ts');
const promiseModuleUrl = new URL(fromSources ? '../promise/index.ts' : './promise.mjs', import.meta.url).href;

const hook = `
const target = ${JSON.stringify(promiseModuleUrl)};
export async function resolve(specifier, context, next) {
  if (specifier === 'vigil/promise' || specifier === 'vigil') return { url: target, shortCircuit: true };
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

type PromiseClass = new (config: Record<string, unknown>) => GenericPromise;

function describeExport(v: unknown): string {
  if (v === undefined) return 'no default export';
  if (typeof v === 'function') return `class/function '${v.name || '(anonymous)'}' that does not extend GenericPromise`;
  return `a ${typeof v}`;
}

async function loadClass(job: RunnerJob): Promise<PromiseClass> {
  if (job.stock !== undefined) {
    const cls = stockPlugins[job.stock];
    if (!cls) throw new Error(`unknown stock plugin '${job.stock}'`);
    return cls as unknown as PromiseClass;
  }
  const url = `${pathToFileURL(job.file).href}?v=${job.version}`;
  const mod = (await import(url)) as { default?: unknown };
  const cls = mod.default;
  if (typeof cls !== 'function' || !(cls.prototype instanceof GenericPromise)) {
    throw new Error(
      `${job.file}: the default export must be a class extending GenericPromise (import { GenericPromise } from 'vigil/promise'); found ${describeExport(cls)}`,
    );
  }
  return cls as PromiseClass;
}

async function runJob(job: RunnerJob): Promise<RunnerReply> {
  let instance: GenericPromise;
  try {
    const Cls = await loadClass(job);
    instance = new Cls({ ...job.config });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { id: job.id, ok: false, error: msg };
  }
  const out = await instance.run(job.checkAnomaly);
  return {
    id: job.id,
    ok: true,
    executed: out.executed,
    bang: out.bang,
    result: out.result ? out.result.toJSON() : undefined,
    periodicity: instance.getPeriodicity(),
    isTested: instance.isTested(),
    isAnomalyDetected: instance.isAnomalyDetected(),
  };
}

process.on('message', (job: RunnerJob) => {
  runJob(job).then(
    (reply) => process.send?.(reply),
    (err: unknown) => process.send?.({ id: job.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
// The engine is gone (killed, crashed): die at once. SIGKILL rather than process.exit(), whose
// teardown (module hooks thread, pending I/O) must not keep an orphan runner alive.
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
process.send?.({ ready: true });
