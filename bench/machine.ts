import { readFileSync } from 'node:fs';
import os from 'node:os';
import type mysql from 'mysql2/promise';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  database: string;
  /** How the database server was provided (private mariadbd, env URL, container) and its settings that matter. */
  databaseSetup: Record<string, string>;
}

/** PRETTY_NAME of /etc/os-release when there is one, else the kernel. */
function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return `${m[1]} (${os.type()} ${os.release()})`;
  } catch {
    // not Linux or no os-release
  }
  return `${os.type()} ${os.release()}`;
}

export async function describeMachine(admin: mysql.Connection, serverKind: string): Promise<MachineInfo> {
  const [[v]] = await admin.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v, @@innodb_buffer_pool_size AS bp, @@innodb_flush_log_at_trx_commit AS flush');
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    node: process.version,
    database: String(v?.v),
    databaseSetup: {
      provided_by: serverKind,
      innodb_buffer_pool_size: `${Math.round(Number(v?.bp) / 2 ** 20)} MiB`,
      innodb_flush_log_at_trx_commit: String(v?.flush),
    },
  };
}
