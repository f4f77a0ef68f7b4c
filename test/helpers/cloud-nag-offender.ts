// Preloaded with `node --import` into the real CDK entry (bin/app.ts) by
// test/unit/cdk-nag.test.ts: just before synthesis it adds to the vigil stack a queue that
// breaks AwsSolutions-SQS3 (no DLQ) and SQS4 (no TLS enforcement), acknowledged by nobody.
// bin/app.ts must then fail, which shows that it applies the cdk-nag checks.
import { App, Stack, type StageSynthesisOptions } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';

const synth = App.prototype.synth;
App.prototype.synth = function (this: App, options?: StageSynthesisOptions) {
  // (an App whose CDK_OUTDIR is set synthesizes again on exit: add the queue once)
  const stack = this.node.children.find((c) => Stack.isStack(c));
  if (!stack) throw new Error('cloud-nag-offender: the app has no stack');
  if (!stack.node.tryFindChild('UnacknowledgedByTest')) new sqs.Queue(stack, 'UnacknowledgedByTest', { enforceSSL: false });
  return synth.call(this, options);
};
