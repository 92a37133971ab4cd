import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { inject } from 'vitest';
import { mysqlOptions, withDatabase } from '../../scripts/lib/mysql-url.js';

export interface TestDatabase {
  /** Database name, unique to this test file. */
  name: string;
  /** mysql://… URL of the database itself. */
  url: string;
  /** Connection options for mysql2 (multipleStatements on, for fixtures). */
  options: mysql.ConnectionOptions;
  /** A connection to this database, for assertions and fixture writes. */
  conn: mysql.Connection;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  return inject('mysqlUrl');
}

export function connectionOptions(url: string, database?: string): mysql.ConnectionOptions {
  return mysqlOptions(url, database, { multipleStatements: true, dateStrings: true });
}

/**
 * A throwaway database on the test server: `prefix` names what the file tests, charset mimics
 * the site (dcm4chee sites: latin1). Dropped by drop() (call it in afterAll).
 */
export async function createTestDatabase(prefix: string, charset = 'latin1'): Promise<TestDatabase> {
  const base = serverUrl();
  const name = `t_${prefix.replace(/[^a-z0-9_]/gi, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection(connectionOptions(base));
  try {
    await admin.query(`CREATE DATABASE \`${name}\` DEFAULT CHARACTER SET ${charset}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(base, name);
  const options = connectionOptions(url, name);
  const conn = await mysql.createConnection(options);
  return {
    name,
    url,
    options,
    conn,
    async drop() {
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined);
      await conn.end().catch(() => undefined);
    },
  };
}
