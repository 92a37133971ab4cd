import { readFileSync } from 'node:fs';
import type mysql from 'mysql2/promise';
import { SeedArgumentError } from './args.js';

export interface SeedTarget {
  options: mysql.ConnectionOptions;
  /** user@host:port/db, for messages; never the password. */
  label: string;
}

/** Sessions write latin1 columns through utf8mb4, so the server converts and accents survive. */
const BASE: mysql.ConnectionOptions = {
  charset: 'utf8mb4',
  dateStrings: true,
  supportBigNumbers: true,
  multipleStatements: false,
  connectTimeout: 10_000,
};

/** `mysql://user:pass@host:port/pacsdb` (database defaults to pacsdb, as the agent's config). */
export function targetFromUrl(text: string): SeedTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new SeedArgumentError('--db', text, 'a URL like mysql://user:password@host:3306/pacsdb');
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new SeedArgumentError('--db', text.replace(/\/\/[^@/]*@/, '//***@'), 'a mysql:// URL');
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'pacsdb';
  const user = decodeURIComponent(u.username) || 'root';
  const host = u.hostname || '127.0.0.1';
  const port = Number(u.port || 3306);
  return {
    options: { ...BASE, host, port, user, password: decodeURIComponent(u.password), database },
    label: `${user}@${host}:${port}/${database}`,
  };
}

/** The agent's INDEXER_DB_* variables (and INDEXER_DB_PASSWORD_FILE), with the agent's defaults. */
export function targetFromEnv(env: Readonly<Record<string, string | undefined>>): SeedTarget {
  const user = env.INDEXER_DB_USER || 'indexer';
  const database = env.INDEXER_DB_NAME || 'pacsdb';
  const file = env.INDEXER_DB_PASSWORD_FILE;
  const password = file ? readFileSync(file, 'utf8').replace(/\r?\n$/, '') : (env.INDEXER_DB_PASSWORD ?? '');
  const socket = env.INDEXER_DB_SOCKET;
  if (socket) {
    return { options: { ...BASE, socketPath: socket, user, password, database }, label: `${user}@${socket}/${database}` };
  }
  const host = env.INDEXER_DB_HOST || '127.0.0.1';
  const portText = env.INDEXER_DB_PORT || '3306';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SeedArgumentError('INDEXER_DB_PORT', portText, 'a TCP port from 1 to 65535');
  }
  return { options: { ...BASE, host, port, user, password, database }, label: `${user}@${host}:${port}/${database}` };
}
