#!/usr/bin/env node
// Bundles the Lambda entries of functions/handlers/ with esbuild (see docs/decisions.md,
// "Cloud: bundling"). One definition used by the CDK stack (lib/constructs/vigil-function.ts
// runs this script from CDK's local-bundling hook at synth time, so assets are never stale and
// no Docker is needed), by bench/lambda-bundle.bench.ts and by the bundle tests.
//
//   node scripts/bundle-lambda.mjs <api|fanout|sweep|notify> <outdir>   → <outdir>/index.mjs (+ .map)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const HANDLERS = ['api', 'fanout', 'sweep', 'notify'];

// zod re-exports every locale's error messages as `z.locales` (≈260 KiB minified) and keeps
// them all because the `z` namespace object is used whole; vigil only uses the default
// English messages. Keep `en` (what zod configures by default) and drop the rest.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: resolve(dirname(args.importer), '../locales/index.js'), namespace: 'zod-locales' };
    });
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/** esbuild options of a handler bundle (exported for tests). */
export function lambdaBuildOptions(name, outdir) {
  if (!HANDLERS.includes(name)) throw new Error(`unknown handler '${name}' (one of ${HANDLERS.join(', ')})`);
  return {
    entryPoints: [join(root, 'functions', 'handlers', `${name}.ts`)],
    outfile: join(outdir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    // ESM output: bundled CommonJS code still needs `require` for Node built-ins.
    banner: {
      js: "import{createRequire as __vigilRequire}from'node:module';const require=__vigilRequire(import.meta.url);",
    },
    tsconfig: join(root, 'tsconfig.json'),
    metafile: true,
    logLevel: 'warning',
    plugins: [zodEnglishOnly],
  };
}

/** Bundles one handler into `outdir`; returns the esbuild metafile. */
export async function bundleLambda(name, outdir) {
  mkdirSync(outdir, { recursive: true });
  const result = await build(lambdaBuildOptions(name, outdir));
  return result.metafile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, outdir, metafileOut] = process.argv.slice(2);
  if (!name || !outdir) {
    process.stderr.write('usage: node scripts/bundle-lambda.mjs <api|fanout|sweep|notify> <outdir> [metafile.json]\n');
    process.exit(2);
  }
  bundleLambda(name, resolve(outdir)).then(
    (meta) => {
      if (metafileOut) writeFileSync(metafileOut, JSON.stringify(meta));
    },
    (err) => {
      process.stderr.write(`bundle-lambda: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
