import type { PacsConnection } from './pacs-db.js';

/**
 * Splits a script written for the mysql client into statements, so Node can run the same file a
 * DBA applies with `mysql pacsdb < file`: honours `DELIMITER` lines, skips `--`, `#` and block
 * comments, and never splits inside quoted strings or identifiers.
 */
export function splitSqlScript(text: string): string[] {
  const statements: string[] = [];
  let delimiter = ';';
  let current = '';
  let i = 0;
  const flush = (): void => {
    const sql = current.trim();
    if (sql) statements.push(sql);
    current = '';
  };
  while (i < text.length) {
    const atLineStart = current.trim() === '' && (i === 0 || text[i - 1] === '\n');
    if (atLineStart) {
      const eol = lineEnd(text, i);
      const match = /^\s*DELIMITER\s+(\S+)\s*$/i.exec(text.slice(i, eol));
      if (match) {
        delimiter = match[1]!;
        current = '';
        i = eol + 1;
        continue;
      }
    }
    const ch = text[i]!;
    if (isLineComment(text, i)) {
      i = lineEnd(text, i);
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      current += ' ';
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = quotedEnd(text, i);
      current += text.slice(i, end);
      i = end;
      continue;
    }
    if (text.startsWith(delimiter, i)) {
      flush();
      i += delimiter.length;
      continue;
    }
    current += ch;
    i += 1;
  }
  flush();
  return statements;
}

/**
 * Decides whether a failed statement runs again (after any pause it takes): every statement of
 * the capture scripts is idempotent, so one that timed out waiting for a lock can simply be re-run.
 */
export type StatementRetry = (err: unknown, attempt: number, statement: string) => Promise<boolean>;

/**
 * Runs a client script statement by statement on one connection (session variables carry over).
 * A failure carries `statement`: the first line of the statement that failed, for the message.
 */
export async function runSqlScript(conn: PacsConnection, text: string, retry?: StatementRetry): Promise<number> {
  const statements = splitSqlScript(text);
  // PREPARE name FROM @var: a failing EXECUTE is named by the statement it ran.
  const prepared = new Map<string, string>();
  for (const sql of statements) {
    const prep = /^PREPARE\s+(\w+)\s+FROM\s+@(\w+)$/i.exec(sql);
    if (prep) prepared.set(prep[1]!.toLowerCase(), prep[2]!);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await conn.query(sql);
        break;
      } catch (err) {
        const statement = await failedStatement(conn, sql, prepared);
        if (retry && (await retry(err, attempt, statement))) continue;
        if (err && typeof err === 'object') Object.assign(err, { statement });
        throw err;
      }
    }
  }
  return statements.length;
}

async function failedStatement(conn: PacsConnection, sql: string, prepared: Map<string, string>): Promise<string> {
  const exec = /^EXECUTE\s+(\w+)$/i.exec(sql);
  const variable = exec ? prepared.get(exec[1]!.toLowerCase()) : undefined;
  if (!variable) return statementSummary(sql);
  try {
    const [rows] = await conn.query(`SELECT @${variable} AS s`);
    const text = (rows as { s?: unknown }[])[0]?.s;
    return statementSummary(text === null || text === undefined ? sql : String(text));
  } catch {
    return statementSummary(sql);
  }
}

/** A statement's head, enough to find it in the script: its first line, shortened. */
export function statementSummary(sql: string): string {
  const first = sql.split('\n', 1)[0]!.trim();
  return first.length > 120 ? `${first.slice(0, 117)}...` : first;
}

function lineEnd(text: string, from: number): number {
  const eol = text.indexOf('\n', from);
  return eol < 0 ? text.length : eol;
}

/** `-- ` needs whitespace after the dashes in MySQL; `#` comments run to the end of the line. */
function isLineComment(text: string, i: number): boolean {
  if (text[i] === '#') return true;
  return text[i] === '-' && text[i + 1] === '-' && (i + 2 >= text.length || /\s/.test(text[i + 2]!));
}

/** Index just after the closing quote; doubled quotes and backslash escapes stay inside. */
function quotedEnd(text: string, start: number): number {
  const quote = text[start]!;
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '\\' && quote !== '`') {
      i += 2;
      continue;
    }
    if (ch === quote) {
      if (text[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return text.length;
}
