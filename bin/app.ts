#!/usr/bin/env node
// CDK app entry (cdk.json: `npx tsx bin/app.ts`). Context flags, all optional:
//   -c vigil:deletionProtection=false   table deletion protection off, DESTROY on teardown
//   -c vigil:alarmEmail=ops@example.com subscribe an address to the alarm topic
//   -c vigil:apiReservedConcurrency=50  reserved concurrency of the agents' api function (default 50);
//      likewise vigil:adminReservedConcurrency (10), vigil:fanoutReservedConcurrency (5),
//      vigil:sweepReservedConcurrency (1)
//   -c vigil:reservedConcurrency=false  reserve nothing (accounts with a low concurrency limit)
//   -c vigil:stackName=Vigil
import { buildVigilApp } from '../lib/app.ts';
import { applyNagChecks } from '../lib/nag.ts';

const { app } = buildVigilApp();
// cdk-nag AwsSolutions: synthesis fails on any finding not fixed or acknowledged.
applyNagChecks(app);
app.synth();
