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

/** Runs a client script statement by statement on one connection (session variables carry over). */
export async function runSqlScript(conn: PacsConnection, text: string): Promise<number> {
  const statements = splitSqlScript(text);
  for (const sql of statements) await conn.query(sql);
  return statements.length;
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
