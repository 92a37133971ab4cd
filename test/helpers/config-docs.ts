import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

/** The rows of the first markdown table under `heading` whose header starts with `firstColumn`, as cell lists. */
export function docsTable(doc: string, heading: string, firstColumn: string): string[][] {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  const section = text.slice(text.indexOf(`\n## ${heading}\n`));
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${firstColumn} |`));
  if (start < 0) throw new Error(`no table "${firstColumn}" under "${heading}" in ${doc}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
  }
  return rows;
}

/** A documented default: `"text"`/`text` → text, `3306` / `16 MiB` / `33554432` (32 MiB) → a number, `null`, — → null. */
export function documentedDefault(cell: string): unknown {
  const c = cell.replace(/\s*\(\d+ [KMG]iB\)$/, '').replace(/\s*\(none\)$/, '').trim();
  if (c === '—' || c === '`null`') return null;
  if (c === '(required)') return '';
  const mib = /^(\d+) MiB$/.exec(c);
  if (mib) return Number(mib[1]) * 1024 * 1024;
  const inner = c.replace(/^`(.*)`$/, '$1');
  if (/^-?\d+$/.test(inner)) return Number(inner);
  if (inner === 'true' || inner === 'false') return inner === 'true';
  return inner.replace(/^"(.*)"$/, '$1');
}
