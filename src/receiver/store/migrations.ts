import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RowDataPacket } from 'mysql2/promise';
import { DatabaseError } from '../../shared/errors.js';
import type { Pool } from './db.js';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

/** sql/receiver, found by walking up from this module (src/… under vitest, dist/src/… when built). */
export function findMigrationsDir(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'sql', 'receiver');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new DatabaseError('MIGRATIONS_MISSING', 'sql/receiver migrations not found', { hint: 'reinstall indexer-receiver: its sql/ folder is missing' });
    dir = parent;
  }
}

/** Splits a migration file on semicolons that end a line; `--` comment lines are dropped. */
export function splitStatements(sql: string): string[] {
  const body = sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n');
  return body
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function loadMigrations(dir = findMigrationsDir()): Migration[] {
  return readdirSync(dir)
    .map((file) => /^(\d+)_([\w-]+)\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      version: Number(m[1]),
      name: m[2]!,
      statements: splitStatements(readFileSync(join(dir, m[0]), 'utf8')),
    }))
    .sort((a, b) => a.version - b.version);
}

async function ensureVersionTable(pool: Pool): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS schema_version (
       version INT NOT NULL PRIMARY KEY,
       name VARCHAR(200) NOT NULL,
       applied_at DATETIME(3) NOT NULL
     ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  );
}

/** The highest applied migration, 0 for an empty database. */
export async function currentSchemaVersion(pool: Pool): Promise<number> {
  const [tables] = await pool.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
    ['schema_version'],
  );
  if (Number(tables[0]?.n ?? 0) === 0) return 0;
  const [rows] = await pool.query<RowDataPacket[]>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_version');
  return Number(rows[0]?.v ?? 0);
}

function tooNew(current: number, known: number): DatabaseError {
  return new DatabaseError('SCHEMA_TOO_NEW', `the database schema is version ${current}, newer than this receiver knows (${known})`, {
    hint: 'upgrade indexer-receiver before running it against this database',
  });
}

/** ER_DUP_FIELDNAME, ER_DUP_KEYNAME: the column or index a re-run adds is there already. */
const ALREADY_APPLIED = new Set(['ER_DUP_FIELDNAME', 'ER_DUP_KEYNAME']);

async function applyStatement(pool: Pool, statement: string): Promise<void> {
  try {
    await pool.query(statement);
  } catch (err) {
    if (!ALREADY_APPLIED.has((err as { code?: string }).code ?? '')) throw err;
  }
}

/**
 * Applies the pending migrations in order, recording each in schema_version. Idempotent; refuses a
 * database whose schema is newer than the newest migration shipped with this code.
 */
export async function migrate(pool: Pool, migrations = loadMigrations()): Promise<{ from: number; to: number }> {
  await ensureVersionTable(pool);
  const known = migrations.at(-1)?.version ?? 0;
  const from = await currentSchemaVersion(pool);
  if (from > known) throw tooNew(from, known);
  for (const m of migrations.filter((x) => x.version > from)) {
    // MySQL DDL commits implicitly: a re-run after a crash repeats the statements already applied,
    // which are either IF NOT EXISTS or fail with "already exists" (taken as done; MySQL has no
    // ADD COLUMN IF NOT EXISTS).
    for (const statement of m.statements) await applyStatement(pool, statement);
    await pool.query('INSERT IGNORE INTO schema_version (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(3))', [m.version, m.name]);
  }
  return { from, to: Math.max(from, known) };
}

/** `serve` runs only against exactly the schema it was built for. */
export async function assertSchemaCurrent(pool: Pool, migrations = loadMigrations()): Promise<void> {
  const known = migrations.at(-1)?.version ?? 0;
  const current = await currentSchemaVersion(pool);
  if (current > known) throw tooNew(current, known);
  if (current < known) {
    throw new DatabaseError('SCHEMA_OUTDATED', `the database schema is version ${current}, this receiver needs ${known}`, {
      hint: 'run `indexer-receiver migrate` first',
    });
  }
}
