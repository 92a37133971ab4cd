import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectCapture } from '../../../src/agent/sources/dcm4chee/capture-objects.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { createPacsdb } from '../../helpers/pacsdb.js';

const MAIN = resolve('dist/src/agent/main.js');

/** The built CLI, as an operator runs it: `indexer install|uninstall` with INDEXER_DB_* env. */
describe('indexer install / uninstall (built CLI)', () => {
  let db: TestDatabase;
  const cwd = mkdtempSync(join(tmpdir(), 'indexer-cli-'));
  const run = (args: string[], dbName?: string) => {
    const o = db.options;
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    Object.assign(env, {
      INDEXER_DB_HOST: String(o.host), INDEXER_DB_PORT: String(o.port), INDEXER_DB_USER: String(o.user),
      INDEXER_DB_PASSWORD: String(o.password ?? ''), INDEXER_DB_NAME: dbName ?? db.name, INDEXER_CENTER: '000',
    });
    const r = spawnSync(process.execPath, [MAIN, ...args], { cwd, env, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error('build first: npx tsc -p tsconfig.json');
    db = await createPacsdb('fixture', 'cli_install');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('install --print writes the SQL and touches nothing', async () => {
    const r = run(['install', '--print']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CREATE TRIGGER indexer_study_ai AFTER INSERT ON study');
    expect(r.stdout).toContain('DELIMITER ;;');
    expect(await inspectCapture(db.conn, db.name)).toMatchObject({ queue: 'missing', stateTable: false, presentTriggers: [] });
  });

  it('install exits 0 and installs; again exits 0 (idempotent)', async () => {
    expect(run(['install']).code).toBe(0);
    expect(await inspectCapture(db.conn, db.name)).toMatchObject({ current: true });
    expect(run(['install']).code).toBe(0);
  });

  it('install exits 3 naming a foreign trigger in a needed slot', async () => {
    await db.conn.query('CREATE TABLE audit_log (x BIGINT); DROP TRIGGER indexer_study_ad; CREATE TRIGGER site_study_ad AFTER DELETE ON study FOR EACH ROW INSERT INTO audit_log VALUES (OLD.pk)');
    const r = run(['install']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('site_study_ad');
    await db.conn.query('DROP TRIGGER site_study_ad');
    expect(run(['install']).code).toBe(0);
  });

  it('uninstall exits 0 and removes everything', async () => {
    expect(run(['uninstall']).code).toBe(0);
    expect(await inspectCapture(db.conn, db.name)).toMatchObject({ queue: 'missing', stateTable: false, deadLetterTable: false, presentTriggers: [] });
  });

  it('install exits 3 when the database does not exist', () => {
    const r = run(['install'], `${db.name}_missing`);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('does not exist');
  });
});
