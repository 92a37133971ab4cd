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
    await expect(assertSchemaCurrent(pool)).rejects.toMatchObject({ code: 'SCHEMA_OUTDATED' });
  });

  it('creates the tables, then is idempotent', async () => {
    const known = loadMigrations().at(-1)!.version;
    expect(await migrate(pool)).toEqual({ from: 0, to: known });
    expect(await tables()).toEqual(['centers', 'center_counts', 'center_heartbeats', 'center_heartbeat_history', 'dicom_clients', 'read_audit', 'read_tokens', 'schema_version', 'studies', 'study_modalities']);
    expect(await migrate(pool)).toEqual({ from: known, to: known });
    const [rows] = await pool.query<RowDataPacket[]>('SELECT version FROM schema_version');
    expect(rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
    await expect(assertSchemaCurrent(pool)).resolves.toBeUndefined();
  });

  it('upgrades a version-1 database with data to version 2, counters backfilled; a crashed re-run completes', async () => {
    const db1 = await createTestDatabase('rx_migrate_up', 'utf8mb4');
    const p1 = createPool(db1.url, 2);
    try {
      const all = loadMigrations();
      await migrate(p1, all.filter((m) => m.version === 1));
      await p1.query("INSERT INTO centers (code, key_hash, created_at, last_source_seq) VALUES ('U1', UNHEX(SHA2('k', 256)), UTC_TIMESTAMP(), 9)");
      await p1.query(
        `INSERT INTO studies (center_id, study_iuid, source_seq, deleted, sort_at, received_at)
         SELECT id, CONCAT('1.', n), 1, n = 3, '2020-01-01', UTC_TIMESTAMP() FROM centers
         JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) x`,
      );
      // A crash after the first statements of 002: they are applied again on the re-run.
      await p1.query(all.find((m) => m.version === 2)!.statements[0]!);
      expect(await migrate(p1, all.filter((m) => m.version <= 2))).toEqual({ from: 1, to: 2 });
      const [rows] = await p1.query<RowDataPacket[]>('SELECT SUM(live) AS live, MAX(last_source_seq) AS seq FROM center_counts');
      expect([Number(rows[0]!.live), Number(rows[0]!.seq)]).toEqual([2, 9]);
      const [cols] = await p1.query<RowDataPacket[]>("SHOW COLUMNS FROM studies WHERE Field IN ('content_hash', 'digest')");
      expect(cols).toHaveLength(2);
    } finally {
      await p1.end();
      await db1.drop();
    }
  });

  it('upgrades a version-2 database to the latest (centre directory, tombstone-aware date indexes) keeping every centre; a crashed re-run completes', async () => {
    const db2 = await createTestDatabase('rx_migrate_v3', 'utf8mb4');
    const p2 = createPool(db2.url, 2);
    try {
      const all = loadMigrations();
      await migrate(p2, all.filter((m) => m.version <= 2));
      await p2.query("INSERT INTO centers (code, name, key_hash, created_at) VALUES ('U2', 'Hospital Dos', UNHEX(SHA2('k2', 256)), UTC_TIMESTAMP())");
      await p2.query(all.find((m) => m.version === 3)!.statements[0]!);
      expect(await migrate(p2)).toEqual({ from: 2, to: all.at(-1)!.version });
      const [rows] = await p2.query<RowDataPacket[]>('SELECT code, name, dicomweb_url, retrieve_aet FROM centers');
      expect(rows.map((r) => ({ ...r }))).toEqual([{ code: 'U2', name: 'Hospital Dos', dicomweb_url: null, retrieve_aet: null }]);
      const [cols] = await p2.query<RowDataPacket[]>(
        "SELECT index_name, GROUP_CONCAT(column_name ORDER BY seq_in_index) AS cols FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'studies' AND index_name IN ('studies_date', 'studies_center_date') GROUP BY index_name ORDER BY index_name",
      );
      expect(cols.map((r) => [r.index_name, r.cols])).toEqual([['studies_center_date', 'center_id,sort_at,id,deleted'], ['studies_date', 'sort_at,id,deleted']]);
      // A crash after 004's first statement: the re-run rebuilds that index again, and completes.
      await p2.query('DELETE FROM schema_version WHERE version >= 4');
      await p2.query(all.find((m) => m.version === 4)!.statements[0]!);
      expect(await migrate(p2)).toEqual({ from: 3, to: all.at(-1)!.version });
      await expect(assertSchemaCurrent(p2)).resolves.toBeUndefined();
    } finally {
      await p2.end();
      await db2.drop();
    }
  });

  it('upgrades a version-4 database with studies to nullable counts, every stored count kept; a crashed re-run completes', async () => {
    const db4 = await createTestDatabase('rx_migrate_v5', 'utf8mb4');
    const p4 = createPool(db4.url, 2);
    try {
      const all = loadMigrations();
      expect(all.find((m) => m.version === 5)?.name).toBe('nullable_counts');
      await migrate(p4, all.filter((m) => m.version <= 4));
      await p4.query("INSERT INTO centers (code, key_hash, created_at) VALUES ('U4', UNHEX(SHA2('k4', 256)), UTC_TIMESTAMP())");
      await p4.query(
        `INSERT INTO studies (center_id, study_iuid, source_seq, deleted, sort_at, received_at, study_series, study_instances)
         SELECT id, CONCAT('4.', n), 1, 0, '2020-01-01', UTC_TIMESTAMP(), s, i FROM centers
         JOIN (SELECT 1 AS n, 3 AS s, 120 AS i UNION ALL SELECT 2, 0, 0 UNION ALL SELECT 3, 2147483647, 1) x`,
      );
      // Before: NOT NULL, so no row can say "unknown".
      await expect(p4.query("UPDATE studies SET study_series = NULL WHERE study_iuid = '4.1'")).rejects.toMatchObject({ code: 'ER_BAD_NULL_ERROR' });
      expect(await migrate(p4)).toEqual({ from: 4, to: all.at(-1)!.version });
      const counts = async () => {
        const [rows] = await p4.query<RowDataPacket[]>('SELECT study_iuid, study_series, study_instances FROM studies ORDER BY study_iuid');
        return rows.map((r) => [r.study_iuid, r.study_series, r.study_instances]);
      };
      expect(await counts()).toEqual([['4.1', 3, 120], ['4.2', 0, 0], ['4.3', 2147483647, 1]]);
      const [cols] = await p4.query<RowDataPacket[]>(
        "SELECT column_name AS c, is_nullable AS n, column_default AS d, data_type AS t FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'studies' AND column_name IN ('study_series', 'study_instances') ORDER BY 1",
      );
      // MariaDB reports the default NULL as the text 'NULL', MySQL as null.
      expect(cols.map((r) => [r.c, r.n, r.d === 'NULL' ? null : r.d, r.t])).toEqual([['study_instances', 'YES', null, 'int'], ['study_series', 'YES', null, 'int']]);
      await p4.query("INSERT INTO studies (center_id, study_iuid, source_seq, deleted, sort_at, received_at) SELECT id, '4.4', 1, 0, '2020-01-01', UTC_TIMESTAMP() FROM centers");
      expect((await counts()).at(-1)).toEqual(['4.4', null, null]);
      // A crash after 005's statement (neither it nor a later one is recorded): the re-run applies it again, and completes.
      await p4.query('DELETE FROM schema_version WHERE version >= 5');
      expect(await migrate(p4)).toEqual({ from: 4, to: all.at(-1)!.version });
      expect((await counts()).slice(0, 3)).toEqual([['4.1', 3, 120], ['4.2', 0, 0], ['4.3', 2147483647, 1]]);
      await expect(assertSchemaCurrent(p4)).resolves.toBeUndefined();
    } finally {
      await p4.end();
      await db4.drop();
    }
  });

  it('upgrades a version-5 database to the DICOM client registry (AE titles unique, case-sensitive); a crashed re-run completes', async () => {
    const db5 = await createTestDatabase('rx_migrate_v6', 'utf8mb4');
    const p5 = createPool(db5.url, 2);
    try {
      const all = loadMigrations();
      expect(all.find((m) => m.version === 6)?.name).toBe('dicom_clients');
      await migrate(p5, all.filter((m) => m.version <= 5));
      await p5.query("INSERT INTO read_tokens (name, token_hash, created_at) VALUES ('ws', UNHEX(SHA2('t', 256)), UTC_TIMESTAMP())");
      expect(await migrate(p5)).toEqual({ from: 5, to: all.at(-1)!.version });
      await p5.query("INSERT INTO dicom_clients (aet, token_id, host, created_at) SELECT 'WS1', id, NULL, UTC_TIMESTAMP(3) FROM read_tokens");
      await p5.query("INSERT INTO dicom_clients (aet, token_id, host, created_at) SELECT 'ws1', id, '10.0.0.1', UTC_TIMESTAMP(3) FROM read_tokens");
      await expect(p5.query("INSERT INTO dicom_clients (aet, token_id, created_at) SELECT 'WS1', id, UTC_TIMESTAMP(3) FROM read_tokens")).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
      // A crash after 006's statement, before it was recorded: the re-run completes, the rows kept.
      await p5.query('DELETE FROM schema_version WHERE version >= 6');
      expect(await migrate(p5)).toEqual({ from: 5, to: all.at(-1)!.version });
      const [rows] = await p5.query<RowDataPacket[]>('SELECT aet, host FROM dicom_clients ORDER BY aet');
      expect(rows.map((r) => [r.aet, r.host])).toEqual([['WS1', null], ['ws1', '10.0.0.1']]);
      await expect(assertSchemaCurrent(p5)).resolves.toBeUndefined();
    } finally {
      await p5.end();
      await db5.drop();
    }
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
