// One vigil Lambda function: a thin entry from functions/handlers/, bundled at synth time by
// scripts/bundle-lambda.mjs (esbuild, run locally from CDK's local-bundling hook: never Docker,
// works offline), ARM64, Node 24, minified with source maps, its own log group with a
// retention, and an execution role that may only write to that log group (no managed
// AWSLambdaBasicExecutionRole, which allows logs:CreateLogGroup on *).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, type Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE_SCRIPT = join(PROJECT_ROOT, 'scripts', 'bundle-lambda.mjs');
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const LAMBDA_ARCHITECTURE = lambda.Architecture.ARM_64;

export type HandlerName = 'api' | 'fanout' | 'sweep' | 'notify';

/**
 * The handler's code asset: scripts/bundle-lambda.mjs writes index.mjs (+ source map) into
 * CDK's staging directory; the asset hash is the hash of that output.
 */
export function handlerCode(name: HandlerName): lambda.Code {
  return lambda.Code.fromAsset(join(PROJECT_ROOT, 'functions', 'handlers'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type, never pulled: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-slim'),
      // Part of CDK's asset cache key: the three handlers share a source directory, so the
      // handler name must appear here or they would all get the first bundle.
      command: ['node', 'scripts/bundle-lambda.mjs', name, '/asset-output'],
      local: {
        tryBundle(outputDir: string): boolean {
          const r = spawnSync(process.execPath, [BUNDLE_SCRIPT, name, outputDir], { stdio: ['ignore', 'inherit', 'inherit'] });
          if (r.status !== 0) {
            throw new Error(`esbuild bundling of functions/handlers/${name}.ts failed (${r.error?.message ?? `exit ${r.status}`})`);
          }
          return true;
        },
      },
    },
  });
}

export interface VigilFunctionProps {
  readonly handler: HandlerName;
  /** Service name (`vigil-<service>`: logs, metrics dimension), default the handler name. */
  readonly service?: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment?: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly reservedConcurrentExecutions?: number;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Lambda's own START/END/REPORT lines: INFO keeps them, WARN drops them (the api answers
   * ~43 M requests a month for 1,000 computers: those lines would be most of the log bill,
   * and the same figures are in the free AWS/Lambda metrics). Default INFO.
   */
  readonly systemLogLevel?: lambda.SystemLogLevel;
}

export class VigilFunction extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: VigilFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `vigil ${props.service ?? props.handler} function: writes its own log group only`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new lambda.Function(this, 'Function', {
      code: handlerCode(props.handler),
      handler: 'index.handler',
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      description: props.description,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: props.systemLogLevel ?? lambda.SystemLogLevel.INFO,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        POWERTOOLS_SERVICE_NAME: `vigil-${props.service ?? props.handler}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Vigil',
        // Stack traces in the logs point at the TypeScript sources.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    });
  }
}
