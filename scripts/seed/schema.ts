import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type mysql from 'mysql2/promise';

/** The project's dcm4chee 2.x-shaped DDL, relative to the repository root. */
export const SCHEMA_FILE = 'test/fixtures/pacsdb-2x.sql';

/** The tables the seeder writes; --create-schema makes sure they exist. */
export const SEED_TABLES = ['patient', 'study', 'series', 'instance'] as const;

/** The repository root: the nearest folder above this module with a package.json (works from dist/ too). */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** Splits a plain DDL script (no DELIMITER blocks) into statements, dropping `-- ` comments. */
export function splitStatements(sql: string): string[] {
  const body = sql
    .split('\n')
    .map((line) => line.replace(/(^|\s)--(\s.*)?$/, ''))
    .join('\n');
  return body
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

async function existingTables(conn: mysql.Connection): Promise<Set<string>> {
  const [rows] = await conn.query(
    'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()',
  );
  return new Set((rows as Array<{ name: string }>).map((r) => r.name.toLowerCase()));
}

/** The table a DDL statement creates or alters, if any. */
function targetTable(statement: string): string | undefined {
  const m = /^(?:CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?|ALTER\s+TABLE\s+|CREATE\s+(?:UNIQUE\s+)?INDEX\s+\S+\s+ON\s+)`?(\w+)`?/i.exec(statement);
  return m?.[1]?.toLowerCase();
}

export interface SchemaResult {
  created: string[];
  file: string;
}

/**
 * Creates the dcm4chee tables that are missing, from the project's DDL. Tables already there are
 * left alone (a real site's schema is never touched), and so are their indexes and constraints.
 */
export async function ensureSchema(conn: mysql.Connection, file = join(repoRoot(), SCHEMA_FILE)): Promise<SchemaResult> {
  if (!existsSync(file)) {
    throw new Error(`--create-schema needs the dcm4chee DDL at ${file}, which is missing`);
  }
  const before = await existingTables(conn);
  const created: string[] = [];
  for (const statement of splitStatements(readFileSync(file, 'utf8'))) {
    const table = targetTable(statement);
    if (table === undefined || before.has(table)) continue;
    if (/^CREATE\s+TABLE/i.test(statement)) created.push(table);
    await conn.query(statement);
  }
  return { created, file };
}
