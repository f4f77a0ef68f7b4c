// cdk-nag v3 runs as a CDK policy-validation plugin: any finding that is not acknowledged
// (Validations.of(construct).acknowledge({ id, reason }) next to the resource) makes
// `app.synth()` — and so `cdk synth` / `cdk deploy` — fail with the report.
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

export function applyNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
