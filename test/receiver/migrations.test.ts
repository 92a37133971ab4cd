import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexerError } from '../../src/shared/errors.js';
import { createPool, type Pool } from '../../src/receiver/store/db.js';
import { assertSchemaCurrent, loadMigrations, migrate, splitStatements } from '../../src/receiver/store/migrations.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';

let db: TestDatabase;
let pool: Pool;
beforeAll(async () => {
  db = await createTestDatabase('rx_migrate', 'utf8mb4');
  pool = createPool(db.url, 2);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

async function tables(): Promise<string[]> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1');
  return rows.map((r) => String(r.t));
}

describe('migrations', () => {
  it('splits files into statements, ignoring comments', () => {
    expect(splitStatements('-- a; comment\nCREATE TABLE a (x INT);\n\nCREATE TABLE b (y INT);\n')).toEqual(['CREATE TABLE a (x INT)', 'CREATE TABLE b (y INT)']);
    const shipped = loadMigrations();
    expect(shipped[0]).toMatchObject({ version: 1, name: 'initial' });
  });

  it('serve refuses a database that was never migrated', async () => {
    await expect(assertSchemaCurrent(pool)).rejects.toMatchObject({ code: 'CAPTURE_MISSING' });
  });

  it('creates the tables, then is idempotent', async () => {
    const known = loadMigrations().at(-1)!.version;
    expect(await migrate(pool)).toEqual({ from: 0, to: known });
    expect(await tables()).toEqual(['centers', 'read_audit', 'read_tokens', 'schema_version', 'studies', 'study_modalities']);
    expect(await migrate(pool)).toEqual({ from: known, to: known });
    const [rows] = await pool.query<RowDataPacket[]>('SELECT version FROM schema_version');
    expect(rows.map((r) => r.version)).toEqual([known]);
    await expect(assertSchemaCurrent(pool)).resolves.toBeUndefined();
  });

  it('uses no triggers, routines or foreign keys (TiDB/Vitess compatible)', async () => {
    const [t] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.triggers WHERE trigger_schema = DATABASE()');
    const [r] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.routines WHERE routine_schema = DATABASE()');
    const [f] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE()');
    expect([Number(t[0]!.n), Number(r[0]!.n), Number(f[0]!.n)]).toEqual([0, 0, 0]);
  });

  it('refuses a schema newer than the code knows (SCHEMA_TOO_NEW), touching nothing', async () => {
    await pool.query("INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', UTC_TIMESTAMP())");
    const err = await migrate(pool).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexerError);
    expect((err as IndexerError).code).toBe('SCHEMA_TOO_NEW');
    await expect(assertSchemaCurrent(pool)).rejects.toMatchObject({ code: 'SCHEMA_TOO_NEW' });
    await pool.query('DELETE FROM schema_version WHERE version = 999');
  });
});
