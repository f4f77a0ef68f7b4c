#!/usr/bin/env node
// Runs every bench/*.bench.ts (through tsx) in name order and prints their output.
// `npm run bench [-- filter]` runs only the files whose name contains the filter.
// The long benches below run only when the filter names them (or through their own script).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const filter = process.argv[2] ?? '';
/** Benches too long for the default run (file → how to run it). */
const LONG = { 'fleet.bench.ts': 'npm run bench:fleet (about 25 min at full size)' };
const files = readdirSync('bench')
  .filter((f) => f.endsWith('.bench.ts') && f.includes(filter))
  .filter((f) => {
    if (filter || !(f in LONG)) return true;
    console.log(`bench: skipping ${f}: ${LONG[f]}`);
    return false;
  })
  .sort();
if (files.length === 0) {
  console.error(`bench: no bench/*.bench.ts${filter ? ` matching '${filter}'` : ''}`);
  process.exit(2);
}
const summary = [];
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join('bench', f)], {
    stdio: 'inherit',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  summary.push({ file: f, status: r.status === 0 ? 'ok' : `failed (${r.status ?? r.signal})`, seconds: ((Date.now() - started) / 1000).toFixed(1) });
}
console.log('\n=== summary ===');
for (const s of summary) console.log(`${s.file.padEnd(36)} ${s.status.padEnd(14)} ${s.seconds} s`);
process.exit(summary.every((s) => s.status === 'ok') ? 0 : 1);
