// Read-only SQL queries on a SQLite file (the slapos.collect collector database read by
// check-free-disk-space): node:sqlite when this Node has it (22.13 and later), else the
// sqlite3 command (Debian package 'sqlite3').
import { spawn } from 'node:child_process';

export class SqliteError extends Error {}

type Row = Record<string, unknown>;

interface NodeSqlite {
  DatabaseSync: new (
    path: string,
    opts?: { readOnly?: boolean; timeout?: number },
  ) => { prepare(sql: string): { all(): Row[] }; close(): void };
}

async function nodeSqlite(): Promise<NodeSqlite | undefined> {
  try {
    // a variable: bundlers and older Nodes must not resolve it up front
    const name = 'node:sqlite';
    return (await import(name)) as NodeSqlite;
  } catch {
    return undefined;
  }
}

function viaCli(file: string, sql: string, timeoutMs: number): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('sqlite3', ['-readonly', '-json', '-cmd', `.timeout ${timeoutMs}`, file, sql], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new SqliteError(
          e.code === 'ENOENT'
            ? "reading the collector database needs Node 22.13 or later (node:sqlite) or the sqlite3 command (Debian package 'sqlite3')"
            : e.message,
        ),
      ),
    );
    child.on('close', (code) => {
      if (code !== 0) return reject(new SqliteError(err.replace(/^(Error|Parse error):\s*/i, '').trim() || `sqlite3 exited with code ${code}`));
      try {
        resolve(out.trim() ? (JSON.parse(out) as Row[]) : []);
      } catch (e) {
        reject(new SqliteError(`sqlite3: unreadable output: ${(e as Error).message}`));
      }
    });
  });
}

/** The rows of a query (read-only; waits up to timeoutMs for a lock). */
export async function sqliteQuery(file: string, sql: string, timeoutMs = 10_000): Promise<Row[]> {
  const mod = await nodeSqlite();
  if (!mod) return viaCli(file, sql, timeoutMs);
  let db: InstanceType<NodeSqlite['DatabaseSync']> | undefined;
  try {
    db = new mod.DatabaseSync(file, { readOnly: true, timeout: timeoutMs });
    return db.prepare(sql).all();
  } catch (e) {
    throw new SqliteError((e as Error).message);
  } finally {
    db?.close();
  }
}

/** SQL string literal. */
export function sqlText(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
