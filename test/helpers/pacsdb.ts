import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type mysql from 'mysql2/promise';
import { createTestDatabase, type TestDatabase } from './mysql.js';

/** Which dcm4chee 2.x schema a test database is built from. */
export type PacsdbFlavor = 'fixture' | 'upstream';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The project's own dcm4chee-2.x-shaped schema. */
export const FIXTURE_SQL = resolve(REPO_ROOT, 'test/fixtures/pacsdb-2x.sql');

/** dcm4chee's own DDL, present beside the repo in development and CI, never shipped. */
export const UPSTREAM_SQL = resolve(REPO_ROOT, '../shared/pacsdb/dcm4chee-2.18/create.mysql');

/** The flavors available here: always the fixture, plus upstream when its DDL file exists. */
export function pacsdbFlavors(): PacsdbFlavor[] {
  return existsSync(UPSTREAM_SQL) ? ['fixture', 'upstream'] : ['fixture'];
}

export function pacsdbSqlFile(flavor: PacsdbFlavor): string {
  return flavor === 'upstream' ? UPSTREAM_SQL : FIXTURE_SQL;
}

/**
 * Executes a plain SQL script (no DELIMITER lines) in one round trip: test connections have
 * multipleStatements on. Scripts with trigger bodies go through src/agent/sources/dcm4chee/sql-script.ts.
 */
export async function loadSqlFile(conn: mysql.Connection, file: string): Promise<void> {
  const text = readFileSync(file, 'utf8');
  await conn.query(text);
}

/** A fresh latin1 database holding a dcm4chee 2.x pacsdb of the given flavor. Drop it in afterAll. */
export async function createPacsdb(flavor: PacsdbFlavor, prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase(`${prefix}_${flavor === 'upstream' ? 'up' : 'fx'}`, 'latin1');
  try {
    await loadSqlFile(db.conn, pacsdbSqlFile(flavor));
  } catch (err) {
    await db.drop();
    throw err;
  }
  return db;
}
