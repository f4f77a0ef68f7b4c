// Synthesizes the vigil CDK app exactly as bin/app.ts does (buildVigilApp + cdk-nag), for the
// cdk-*.test.ts files. `bundle: false` skips esbuild (CDK's `aws:cdk:bundling-stacks` context)
// for tests that only look at the template.
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildVigilApp } from '../../lib/app.ts';
import { applyNagChecks } from '../../lib/nag.ts';
import type { VigilStack } from '../../lib/vigil-stack.ts';

export interface SynthOptions {
  context?: Record<string, unknown>;
  bundle?: boolean;
  nag?: boolean;
  outdir?: string;
  /** Called on the stack before synthesis (e.g. to add an offending resource). */
  mutate?: (stack: VigilStack) => void;
}

export function synthVigil(opts: SynthOptions = {}): { app: App; stack: VigilStack; template: Template } {
  const context: Record<string, unknown> = { ...opts.context };
  if (opts.bundle !== true) context['aws:cdk:bundling-stacks'] = [];
  const { app, stack } = buildVigilApp({ context, ...(opts.outdir ? { outdir: opts.outdir } : {}) });
  if (opts.nag !== false) applyNagChecks(app);
  opts.mutate?.(stack);
  return { app, stack, template: Template.fromStack(stack) };
}

/** Resolves `{Ref}` / `{Fn::GetAtt}` to a logical id, for comparing references. */
export function refId(v: unknown): string | undefined {
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return o.Ref;
    const ga = o['Fn::GetAtt'];
    if (Array.isArray(ga) && typeof ga[0] === 'string') return ga[0];
  }
  return undefined;
}
