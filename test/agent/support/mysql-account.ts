import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { TestDatabase } from '../../helpers/mysql.js';
import { REPO_ROOT, writeSiteConfig } from './agent-harness.js';

/**
 * A throwaway MySQL account, as a DBA creates one: at '%', plus at every host where an anonymous
 * account ('') would otherwise win the match for a local TCP login (MySQL picks the most specific
 * host first, so ''@'localhost' shadows 'x'@'%'). GRANT/REVOKE go to every host it exists at.
 */
export class TestAccount {
  private constructor(
    private readonly admin: mysql.Connection,
    readonly user: string,
    readonly password: string,
    private readonly hosts: string[],
  ) {}

  static async create(admin: mysql.Connection, prefix: string): Promise<TestAccount> {
    const user = `${prefix}_${randomBytes(3).toString('hex')}`.slice(0, 32);
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const [anon] = await admin.query<mysql.RowDataPacket[]>(
      "SELECT Host AS h FROM mysql.user WHERE User = '' AND Host IN ('localhost', '127.0.0.1', '::1')",
    );
    const hosts = ['%', ...anon.map((r) => String(r.h))];
    for (const h of hosts) await admin.query(`CREATE USER '${user}'@'${h}' IDENTIFIED BY '${password}'`);
    return new TestAccount(admin, user, password, hosts);
  }

  /** `'user'@'%'`, as the README spells the account. */
  get account(): string {
    return `'${this.user}'@'%'`;
  }

  /** Runs a GRANT or REVOKE written for `'user'@'%'` for every host the account exists at. */
  async apply(statement: string): Promise<void> {
    for (const h of this.hosts) await this.admin.query(statement.split(this.account).join(`'${this.user}'@'${h}'`));
  }

  async connect(database: TestDatabase): Promise<mysql.Connection> {
    const conn = await mysql.createConnection({ ...database.options, user: this.user, password: this.password, multipleStatements: false });
    const [[row]] = await conn.query<mysql.RowDataPacket[]>('SELECT CURRENT_USER() AS u');
    if (!String(row!.u).startsWith(`${this.user}@`)) throw new Error(`logged in as ${String(row!.u)}, not ${this.user}: an anonymous account shadows it`);
    return conn;
  }

  /** A site folder whose config logs in as this account. */
  siteConfig(database: TestDatabase, extra: Record<string, unknown> = {}): string {
    return writeSiteConfig({ ...database, options: { ...database.options, user: this.user, password: this.password } }, extra);
  }

  async drop(): Promise<void> {
    for (const h of this.hosts) await this.admin.query(`DROP USER IF EXISTS '${this.user}'@'${h}'`).catch(() => undefined);
  }
}

/** The README's GRANT lists ("GRANTs for the agent's MySQL user"), for this database and account. */
export function readmeGrants(database: string, account: string): { install: string[]; legacy: string[]; run: string[] } {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf("### GRANTs for the agent's MySQL user");
  if (start < 0) throw new Error("README has no \"GRANTs for the agent's MySQL user\" section");
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  const blocks = [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  if (blocks.length < 2) throw new Error('README GRANT section lost its install-time and run-time blocks');
  const fill = (l: string): string => l.split('`pacsdb`').join(`\`${database}\``).split("'indexer'@'%'").join(account);
  const grants = (block: string): string[] => block.split('\n').filter((l) => l.startsWith('GRANT')).map(fill);
  const [installBlock, runBlock] = blocks as [string, string];
  const legacyAt = installBlock.indexOf('-- only where the legacy indexer ran');
  return {
    install: grants(legacyAt < 0 ? installBlock : installBlock.slice(0, legacyAt)),
    legacy: legacyAt < 0 ? [] : grants(installBlock.slice(legacyAt)),
    run: grants(runBlock),
  };
}

/** The REVOKEs that cut `from` down to `to` (both GRANT lists, one table per line). */
export function revokesBetween(from: string[], to: string[]): string[] {
  const parse = (l: string): [string, string[], string] => {
    const m = /^GRANT (.+?) ON (\S+) TO (.+?);/.exec(l);
    if (!m) throw new Error(`cannot read ${l}`);
    return [m[2]!, m[1]!.split(',').map((p) => p.trim()), m[3]!];
  };
  const kept = new Map(to.map((l) => parse(l)).map(([target, privs]) => [target, privs]));
  const out: string[] = [];
  for (const line of from) {
    const [target, privs, account] = parse(line);
    const drop = privs.filter((p) => !(kept.get(target) ?? []).includes(p));
    if (drop.length > 0) out.push(`REVOKE ${drop.join(', ')} ON ${target} FROM ${account}`);
  }
  return out;
}
