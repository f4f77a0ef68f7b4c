#!/usr/bin/env node
// Builds every bundle of the package with esbuild (see docs/decisions.md).
//  - dist/vigil.mjs (+ chunks): the CLI. Code split, so `vigil agent` / `vigil promise`
//    never load the master's code (AWS SDK); node_modules stay external (installed by npm).
//  - dist/promise.mjs: the `vigil/promise` export for plugin modules.
import { build } from 'esbuild';
import { rmSync, chmodSync, existsSync } from 'node:fs';

const started = Date.now();
rmSync('dist', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
  packages: 'external',
};

await build({
  ...common,
  entryPoints: {
    vigil: 'bin/vigil.ts',
    promise: 'agent/promise/index.ts',
    // plugin runner processes of the promise engine (shares the vigil/promise chunk)
    'promise-runner': 'agent/engine/runner.ts',
  },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: '#!/usr/bin/env node' },
});
if (existsSync('dist/vigil.mjs')) chmodSync('dist/vigil.mjs', 0o755);
console.log(`vigil: built dist/ in ${Date.now() - started} ms`);
