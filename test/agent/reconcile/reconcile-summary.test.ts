import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { CENTER, CLI, KEY, createSite, runCli, writeSiteConfig } from '../support/agent-harness.js';
import { writeDays } from './support/reconcile-site.js';

/**
 * `indexer reconcile` prints its report on stdout: a human summary when stdout is a terminal (a
 * real pseudo-terminal, through util-linux `script`), one JSON object otherwise.
 */
describe('indexer reconcile summary (built CLI)', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let dir: string;

  beforeAll(async () => {
    db = await createSite('fixture', 'reconcile_summary');
    await db.conn.query("SET SESSION sql_mode = ''");
    receiver = await startCentralReceiver('reconcile_summary', { [CENTER]: KEY });
    dir = writeSiteConfig(db, { url: receiver.url });
    await writeDays(new Dcm4cheeWriter(db.conn), db.conn, 5);
    const res = await runCli(['initial'], dir);
    expect(res.code, res.stderr).toBe(0);
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  it('not a terminal: the report as one JSON object on stdout', async () => {
    const res = await runCli(['reconcile', '--dry-run'], dir);
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ command: 'reconcile', dry_run: true, ok: true, days_differing: 0, missing: 0 });
    expect(Number(report.days_compared)).toBeGreaterThan(0);
  });

  it('on a terminal: a human summary', async () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('INDEXER_')) env[k] = v;
    // stderr goes elsewhere, so only stdout is the terminal; the log level keeps the JSON logs out.
    const cmd = `cd '${dir}' && '${process.execPath}' '${CLI}' reconcile --dry-run --log-level silent 2>/dev/null`;
    // Not spawnSync: the in-process receiver answers from this process's event loop.
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on('error', (err) => reject(new Error(`util-linux \`script\` is needed for this test: ${err.message}`)));
      child.on('close', resolve);
    });
    expect(status, stdout).toBe(0);
    const out = stdout.replace(/\r/g, '');
    expect(out).toContain('reconcile (dry run): the receiver matches the source');
    expect(out).toMatch(/days compared: \d+, differing: 0/);
    expect(out).toMatch(/missing 0, different 0, extra 0, moved 0/);
    expect(out).not.toContain('{"command"');
  });
});
