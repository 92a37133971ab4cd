import type mysql from 'mysql2/promise';

/**
 * mysql2 options for a `mysql://user:pass@host:port/db` URL (user root and port 3306 when absent),
 * for the project's scripts, benchmark and tests. The receiver parses its own URL (src/receiver).
 */
export function mysqlOptions(url: string, database?: string, extra: mysql.ConnectionOptions = {}): mysql.ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database: database ?? (decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined),
    charset: 'utf8mb4',
    ...extra,
  };
}

/** The same server URL naming another database. */
export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}
