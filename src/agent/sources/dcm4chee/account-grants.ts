import { quoteAccount } from './capture-errors.js';
import type { PacsQueryable } from './pacs-db.js';

/** One `GRANT … ON … TO …` line of SHOW GRANTS, table- or wider-level privileges only. */
interface GrantLine {
  privileges: Set<string>;
  /** null: `*.*`. */
  db: string | null;
  /** A schema-level grant's name is a LIKE pattern (`pacs\_db`, `pacs%`); a table-level one is literal. */
  dbPattern: boolean;
  /** null: `db.*`. */
  table: string | null;
  /** `user@host` (or a role's name) the line grants to. */
  grantee: string;
}

/**
 * What an account may do, from SHOW GRANTS: the one source that works for the current account
 * and (with SELECT on `mysql`) for another, on MySQL 5.5+ and MariaDB alike. Column-level
 * privileges are not counted: the triggers and the agent need whole tables. Privileges held
 * through a role are kept apart: a trigger's definer does not use them (MariaDB checks only the
 * definer's own grants when a trigger fires, even for its default role).
 */
export class AccountGrants {
  constructor(
    private readonly direct: GrantLine[],
    private readonly viaRoles: GrantLine[],
    /** The roles granted to the account (`GRANT role TO account` lines). */
    readonly roles: string[],
  ) {}

  /** Granted to the account itself (what a trigger it defines can use). */
  has(privilege: string, db: string, table: string): boolean {
    return this.direct.some((g) => grants(g, privilege, db, table));
  }

  /** Granted to the account or to a role SHOW GRANTS listed for it (what its own session can use). */
  hasInSession(privilege: string, db: string, table: string): boolean {
    return this.has(privilege, db, table) || this.viaRoles.some((g) => grants(g, privilege, db, table));
  }
}

function grants(g: GrantLine, privilege: string, db: string, table: string): boolean {
  const p = privilege.toUpperCase();
  return (g.privileges.has(p) || g.privileges.has('ALL')) && covers(g, db, table);
}

function covers(g: GrantLine, db: string, table: string): boolean {
  if (g.db === null) return true;
  const dbMatches = g.dbPattern ? likeMatches(g.db, db) : g.db === db;
  return dbMatches && (g.table === null || g.table.toLowerCase() === table.toLowerCase());
}

/** MySQL's LIKE on database names: `%`, `_`, backslash escapes. */
function likeMatches(pattern: string, value: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!);
    else if (ch === '%') re += '.*';
    else if (ch === '_') re += '.';
    else re += escapeRe(ch);
  }
  return new RegExp(`^${re}$`, 's').test(value);
}

function escapeRe(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Splits on commas outside parentheses: `SELECT (a, b), INSERT`. */
function splitPrivileges(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** `` `db` ``, `'db'`, `db` or `*`, and the rest of the text after it. */
function readIdent(text: string): { name: string; quoted: boolean; rest: string } {
  const q = text[0];
  if (q === '`' || q === "'" || q === '"') {
    let name = '';
    let i = 1;
    while (i < text.length) {
      if (text[i] === q && text[i + 1] === q) {
        name += q;
        i += 2;
      } else if (text[i] === q) break;
      else name += text[i++];
    }
    return { name, quoted: true, rest: text.slice(i + 1) };
  }
  const m = /^[^.\s]+/.exec(text);
  return { name: m ? m[0] : '', quoted: false, rest: text.slice(m ? m[0].length : 0) };
}

export function parseGrantLine(line: string): GrantLine | 'role' | null {
  const m = /^GRANT\s+(.+?)\s+ON\s+(?:TABLE\s+)?(\S+)\s+TO\s+(\S+)/is.exec(line.trim());
  if (!m) return /^GRANT\s+\S+\s+TO\s+/i.test(line.trim()) ? 'role' : null;
  const target = m[2]!;
  if (/^(FUNCTION|PROCEDURE|PACKAGE)$/i.test(target)) return null;
  const privileges = new Set<string>();
  for (const p of splitPrivileges(m[1]!)) {
    if (p.includes('(')) continue; // column-level
    const name = p.toUpperCase().replace(/\s+/g, ' ');
    privileges.add(name === 'ALL PRIVILEGES' ? 'ALL' : name);
  }
  const db = readIdent(target);
  if (!db.rest.startsWith('.')) return null;
  const table = readIdent(db.rest.slice(1));
  const dbName = db.name === '*' && !db.quoted ? null : db.name;
  const tableName = table.name === '*' && !table.quoted ? null : table.name;
  return { privileges, db: dbName, dbPattern: tableName === null, table: tableName, grantee: parseGrantee(m[3]!) };
}

/** `` `u`@`h` ``, `'u'@'h'` or `` `role` `` as `u@h` / `role`. */
function parseGrantee(text: string): string {
  const user = readIdent(text);
  if (!user.rest.startsWith('@')) return user.name;
  return `${user.name}@${readIdent(user.rest.slice(1)).name}`;
}

export function sameAccount(a: string, b: string): boolean {
  const at = (s: string): [string, string] => {
    const i = s.lastIndexOf('@');
    return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1).toLowerCase()];
  };
  const [ua, ha] = at(a);
  const [ub, hb] = at(b);
  return ua === ub && ha === hb;
}

/** `account` (`user@host`) is whose grants these are; lines for anyone else come from its roles. */
export function parseGrants(lines: string[], account: string): AccountGrants {
  const direct: GrantLine[] = [];
  const viaRoles: GrantLine[] = [];
  const roles: string[] = [];
  for (const line of lines) {
    const g = parseGrantLine(line);
    if (g === 'role') roles.push(line);
    else if (g) (sameAccount(g.grantee, account) ? direct : viaRoles).push(g);
  }
  return new AccountGrants(direct, viaRoles, roles);
}

/**
 * SHOW GRANTS of `userAtHost`: of the session itself when it is the current account (always
 * allowed), else SHOW GRANTS FOR, which needs SELECT on `mysql` (errors 1044/1142 without it,
 * 1141 when the account does not exist).
 */
export async function readGrants(conn: PacsQueryable, userAtHost: string, self: boolean): Promise<AccountGrants> {
  const [rows] = await conn.query(self ? 'SHOW GRANTS' : `SHOW GRANTS FOR ${quoteAccount(userAtHost)}`);
  return parseGrants((rows as Record<string, string>[]).map((r) => String(Object.values(r)[0] ?? '')), userAtHost);
}
