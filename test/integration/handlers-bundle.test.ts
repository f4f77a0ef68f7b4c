// `npx cdk synth` (the real CLI, cdk.json → bin/app.ts, cdk-nag on) bundles the three handlers
// offline with local esbuild; the api bundle answers /healthz through the Lambda adapter in a
// fresh node process, outside the repository (no node_modules to fall back on).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGatewayV2Event, functionUrlEvent } from '../helpers/cloud-events.ts';
import { FRESH_ENV, runBundleFresh } from '../helpers/cloud-bundle.ts';

const root = new URL('../..', import.meta.url).pathname;
const MiB = 1024 * 1024;
let outdir = '';
const bundles: Record<string, string> = {};

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'vigil-cdk-'));
  const cli = join(root, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  const r = spawnSync(process.execPath, [cli, 'synth', '--quiet', '--no-notices', '--output', outdir], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      CDK_DISABLE_VERSION_CHECK: '1',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      // offline: no credentials, no account lookups
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
    },
  });
  if (r.status !== 0) throw new Error(`cdk synth failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const template = JSON.parse(readFileSync(join(outdir, 'Vigil.template.json'), 'utf8'));
  for (const res of Object.values(template.Resources) as { Type: string; Properties: any }[]) {
    if (res.Type !== 'AWS::Lambda::Function') continue;
    const service = res.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME.replace(/^vigil-/, '');
    const hash = String(res.Properties.Code.S3Key).replace(/\.zip$/, '');
    bundles[service] = join(outdir, `asset.${hash}`, 'index.mjs');
  }
}, 180_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('Lambda bundles from cdk synth', () => {
  it('one distinct bundle per function, with its source map', () => {
    expect(Object.keys(bundles).sort()).toEqual(['api', 'fanout', 'sweep']);
    for (const file of Object.values(bundles)) {
      expect(existsSync(file), file).toBe(true);
      expect(existsSync(`${file}.map`), `${file}.map`).toBe(true);
    }
    expect(new Set(Object.values(bundles)).size).toBe(3);
  });

  it('bundles are minified ESM with a source map pointing at the TypeScript sources', () => {
    for (const [name, file] of Object.entries(bundles)) {
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n').length;
      expect(text.length / lines, `${name}: average line length`).toBeGreaterThan(1000);
      expect(text.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map'), name).toBe(true);
      const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[]; sourcesContent?: unknown };
      expect(map.sources.some((src) => src.endsWith(`functions/handlers/${name}.ts`)), name).toBe(true);
      expect(map.sourcesContent, `${name}: sources are not shipped`).toBeUndefined();
    }
  });

  it('as deployed (--enable-source-maps), a configuration error names the variable and the .ts line', () => {
    const { TABLE_NAME: _missing, ...env } = FRESH_ENV;
    expect(() => runBundleFresh(bundles.sweep!, { source: 'vigil.scheduler' }, env)).toThrow(
      /environment variable TABLE_NAME is not set[\s\S]*functions\/handlers\/runtime\.ts:\d+/,
    );
  });

  it('the api bundle is at most 1 MiB', () => {
    expect(statSync(bundles.api!).size).toBeLessThanOrEqual(MiB);
  });

  it.each([
    ['API Gateway v2', apiGatewayV2Event],
    ['function URL', functionUrlEvent],
  ])('the api bundle answers GET /healthz (%s event) in a fresh node process', (_label, shape) => {
    const run = runBundleFresh(bundles.api!, shape({ method: 'GET', path: '/healthz' }));
    const res = run.result as { statusCode: number; body: string; headers: Record<string, string> };
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.parse(res.body)).toBeTypeOf('object');
  });

  it('the api bundle answers a bad request with a JSON 401, not a crash', () => {
    const run = runBundleFresh(bundles.api!, apiGatewayV2Event({ method: 'GET', path: '/v1/computers' }));
    const res = run.result as { statusCode: number; body: string };
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body).error).toBeTypeOf('string');
  });

  it('the fanout and sweep bundles load and export a handler', () => {
    for (const name of ['fanout', 'sweep']) {
      const run = runBundleFresh(bundles[name]!, null);
      expect(run.loadMs).toBeGreaterThan(0);
    }
  });
});
