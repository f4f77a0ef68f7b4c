// cdk-nag AwsSolutions runs as a policy-validation plugin (lib/nag.ts, applied by bin/app.ts):
// the vigil app synthesizes clean, every acknowledgement carries a reason, and a finding that
// nobody acknowledged makes synthesis fail.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { synthVigil } from '../helpers/cloud-synth.ts';

function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  const out: { path: string; id: string; reason: string }[] = [];
  for (const c of root.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      // data: { '<qualified rule id>': '<reason>' }
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
        out.push({ path: c.node.path, id: id.replace(/^[A-Za-z]+::/, ''), reason: String(reason) });
      }
    }
  }
  return out;
}

describe('cdk-nag AwsSolutions', () => {
  it('the vigil app synthesizes with no unacknowledged finding, each acknowledgement with a reason', () => {
    const { stack } = synthVigil(); // Template.fromStack runs the validation plugins; throws on findings
    const acks = acknowledgements(stack);
    // IAM5 twice: the two scheduler roles (sweep, notify) invoke their own function's versions
    expect(acks.map((a) => a.id.replace(/\[.*$/, '')).sort()).toEqual(['AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-SMG4']);
    for (const a of acks) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(40);
  });

  it('fails synthesis on a finding nobody acknowledged, naming the rule and the resource', () => {
    let error: unknown;
    try {
      synthVigil({
        // A queue without DLQ and without TLS enforcement: AwsSolutions-SQS3 and SQS4.
        mutate: (stack) => new sqs.Queue(stack, 'Unacknowledged', { enforceSSL: false }),
      });
    } catch (e) {
      error = e;
    }
    expect(String(error)).toMatch(/AwsSolutions-SQS3/);
    expect(String(error)).toMatch(/AwsSolutions-SQS4/);
    expect(String(error)).toMatch(/Unacknowledged/);
    // and nothing else in the stack is reported
    expect(String(error)).not.toMatch(/AwsSolutions-(IAM5|SMG4|IAM4|L1)/);
  });

  it('an acknowledgement with its reason silences exactly that finding', () => {
    const run = (ids: string[]) => () =>
      synthVigil({
        mutate: (stack) => {
          const q = new sqs.Queue(stack, 'Acknowledged', { enforceSSL: true });
          for (const id of ids) Validations.of(q).acknowledge({ id, reason: 'test: a queue that exists only in this test' });
        },
      });
    expect(run(['AwsSolutions-SQS3'])).not.toThrow();
    expect(run([])).toThrow(/AwsSolutions-SQS3/);
  });
});

describe('bin/app.ts (what `cdk synth` / `cdk deploy` run)', () => {
  it('applies the checks: an unacknowledged finding makes it fail with the report', () => {
    const root = new URL('../..', import.meta.url).pathname;
    const outdir = mkdtempSync(join(tmpdir(), 'vigil-nag-'));
    try {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--import', join(root, 'test', 'helpers', 'cloud-nag-offender.ts'), join(root, 'bin', 'app.ts')],
        {
          cwd: root,
          encoding: 'utf8',
          timeout: 60_000,
          // how the CDK CLI runs the app: context and output directory in the environment
          env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }) },
        },
      );
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.status, out).not.toBe(0);
      expect(out).toMatch(/AwsSolutions-SQS3/);
      expect(out).toMatch(/AwsSolutions-SQS4/);
      expect(out).toMatch(/UnacknowledgedByTest/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000); // a child process compiling and synthesizing the app: seconds, more on a loaded machine
});
