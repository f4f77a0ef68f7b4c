// cdk-nag AwsSolutions runs as a policy-validation plugin (lib/nag.ts, applied by bin/app.ts):
// the vigil app synthesizes clean, every acknowledgement carries a reason, and a finding that
// nobody acknowledged makes synthesis fail.
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
    expect(acks.map((a) => a.id.replace(/\[.*$/, '')).sort()).toEqual(['AwsSolutions-IAM5', 'AwsSolutions-SMG4']);
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
