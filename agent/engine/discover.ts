// Finds a partition's promises: etc/plugin/*.{json,js,mjs} and executables in etc/promise/.
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

export interface PromiseEntry {
  name: string;
  title: string;
  file: string;
  kind: 'stock' | 'module' | 'legacy';
  mtimeMs: number;
  /** set when the entry cannot run (e.g. duplicate title): the promise fails with it. */
  problem?: string;
}

const PLUGIN_EXT = new Set(['.json', '.js', '.mjs']);

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

export function titleOf(name: string): string {
  const ext = extname(name);
  return ext ? name.slice(0, -ext.length) : name;
}

export function discoverPromises(partitionDir: string): PromiseEntry[] {
  return discoverPromisesWithWarnings(partitionDir).entries;
}

/** The promises, and a warning per file of etc/promise that cannot run (the reference warns too). */
export function discoverPromisesWithWarnings(partitionDir: string): { entries: PromiseEntry[]; warnings: string[] } {
  const entries: PromiseEntry[] = [];
  const warnings: string[] = [];
  const pluginDir = join(partitionDir, 'etc', 'plugin');
  for (const name of list(pluginDir)) {
    if (name.startsWith('.')) continue;
    const ext = extname(name);
    if (!PLUGIN_EXT.has(ext)) continue;
    const file = join(pluginDir, name);
    const st = statSync(file);
    if (!st.isFile()) continue;
    entries.push({ name, title: titleOf(name), file, kind: ext === '.json' ? 'stock' : 'module', mtimeMs: st.mtimeMs });
  }
  const legacyDir = join(partitionDir, 'etc', 'promise');
  for (const name of list(legacyDir)) {
    if (name.startsWith('.')) continue;
    const file = join(legacyDir, name);
    const st = statSync(file);
    if (!st.isFile()) {
      warnings.push(`Bad promise file at '${file}': not a regular file; skipped`);
      continue;
    }
    try {
      accessSync(file, constants.X_OK);
    } catch {
      // not a promise; the reference skips it with a warning: name it
      warnings.push(`Bad promise file at '${file}': not executable (chmod +x it, or move it out of etc/promise); skipped`);
      continue;
    }
    entries.push({ name, title: titleOf(name), file, kind: 'legacy', mtimeMs: st.mtimeMs });
  }
  const seen = new Map<string, PromiseEntry>();
  for (const e of entries) {
    const first = seen.get(e.title);
    if (first) e.problem = `duplicate promise title '${e.title}': ${first.file} and ${e.file} (rename one)`;
    else seen.set(e.title, e);
  }
  return { entries, warnings };
}
