import { describe, expect, it } from 'vitest';
import { installSql, uninstallSql } from '../../../../src/agent/sources/dcm4chee/capture-objects.js';
import { splitSqlScript } from '../../../../src/agent/sources/dcm4chee/sql-script.js';

describe('splitSqlScript', () => {
  it('splits on ; and skips -- , # and block comments', () => {
    const sql = "-- header; not a statement\nSELECT 1;\n# another; comment\nSELECT /* a; b */ 2 ;\n\n";
    expect(splitSqlScript(sql)).toEqual(['SELECT 1', 'SELECT   2']);
  });

  it('keeps delimiters inside quoted strings and identifiers', () => {
    const sql = "INSERT INTO t VALUES ('a;b', 'it''s; ok', \"x;y\", 'back\\'slash;');\nSELECT `odd;name` FROM t;";
    expect(splitSqlScript(sql)).toEqual([
      "INSERT INTO t VALUES ('a;b', 'it''s; ok', \"x;y\", 'back\\'slash;')",
      'SELECT `odd;name` FROM t',
    ]);
  });

  it('honours DELIMITER lines around trigger bodies', () => {
    const sql = 'DROP TRIGGER IF EXISTS x;\nDELIMITER ;;\nCREATE TRIGGER x AFTER INSERT ON t FOR EACH ROW\nBEGIN\n  DO 1;\n  DO 2;\nEND;;\nDELIMITER ;\nSELECT 3;';
    expect(splitSqlScript(sql)).toEqual([
      'DROP TRIGGER IF EXISTS x',
      'CREATE TRIGGER x AFTER INSERT ON t FOR EACH ROW\nBEGIN\n  DO 1;\n  DO 2;\nEND',
      'SELECT 3',
    ]);
  });

  it('treats --x (no space) as an expression, not a comment, like MySQL', () => {
    expect(splitSqlScript('SELECT 1 --1;')).toEqual(['SELECT 1 --1']);
  });

  it('finds the four triggers in the shipped install script and no DELIMITER leftovers', () => {
    const statements = splitSqlScript(installSql());
    expect(statements.filter((s) => s.startsWith('CREATE TRIGGER')).map((s) => s.split(/\s+/)[2])).toEqual([
      'indexer_study_ai', 'indexer_study_au', 'indexer_study_ad', 'indexer_patient_au',
    ]);
    expect(statements.some((s) => /DELIMITER/i.test(s))).toBe(false);
    const drops = splitSqlScript(uninstallSql());
    const firstTable = drops.findIndex((s) => /DROP TABLE|PREPARE/.test(s));
    const lastTrigger = drops.map((s) => s.startsWith('DROP TRIGGER')).lastIndexOf(true);
    expect(lastTrigger).toBeLessThan(firstTable);
  });
});
