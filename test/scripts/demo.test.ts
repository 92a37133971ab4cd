import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { serverUrl } from '../helpers/mysql.js';

const DEMO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/scripts/demo.js');

function runDemo(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEMO, '--studies', '200'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo (non-interactive, on the CI database)', () => {
  it('runs the whole system end to end and prints the aggregate answers', async () => {
    const res = await runDemo({ ...process.env, INDEXER_DEMO_MYSQL_URL: serverUrl() });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('using INDEXER_DEMO_MYSQL_URL');
    expect(res.stdout).toMatch(/centre 001: read 200, sent 200, tombstones 0, rejected 0/);
    expect(res.stdout).toMatch(/centre 001: read \d+, sent 2, tombstones 1, rejected 0/);
    expect(res.stdout).toContain('GET /api/v2/patients/12.345.678-5/studies → 2 studies:');
    expect(res.stdout).toMatch(/centre 001 .*CT\\SR +TC DE TÓRAX +2 series \/ 213 images +patient 12\.345\.678-5 PEÑA\^MARÍA JOSÉ/);
    expect(res.stdout).toMatch(/centre 002 .*MR +RM CEREBRO +1 series \/ 180 images +patient 12345678-5/);
    expect(res.stdout).toMatch(/001 +Hospital Clínico Regional +200 live studies/);
    expect(res.stdout).toMatch(/002 +Hospital de Ñuñoa +201 live studies/);
    expect(res.stdout).toContain('demo databases dropped');
  });

  it('on Ctrl-C stops, drops every database it created and exits 130', async () => {
    const child = spawn(process.execPath, [DEMO, '--studies', '200'], {
      env: { ...process.env, INDEXER_DEMO_MYSQL_URL: serverUrl() }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let interrupted = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!interrupted && stdout.includes('[3/8]')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    const admin = await mysql.createConnection(serverUrl());
    const demoDatabases = async () => {
      const [rows] = await admin.query<mysql.RowDataPacket[]>("SHOW DATABASES LIKE 'pacsdb\\_demo\\_%'");
      return rows.map((r) => String(Object.values(r)[0]));
    };
    const before = new Set(await demoDatabases());
    const seen = new Set<string>();
    const watch = setInterval(() => {
      void demoDatabases().then((names) => {
        for (const n of names) if (!before.has(n)) seen.add(n);
      }).catch(() => undefined);
    }, 50);
    const code = await new Promise((r) => child.on('close', r));
    clearInterval(watch);
    expect(code).toBe(130);
    expect(stdout).toContain('interrupted: cleaning up');
    expect(seen.size).toBeGreaterThan(0);
    const [left] = await admin.query<mysql.RowDataPacket[]>('SHOW DATABASES');
    const names = left.map((r) => String(Object.values(r)[0]));
    for (const db of seen) expect(names).not.toContain(db);
    await admin.end();
  });

  it('refuses a bad --studies value, naming it (exit 2)', async () => {
    const child = spawn(process.execPath, [DEMO, '--studies', 'many'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(2);
    expect(stderr).toContain('--studies many: expected a whole number');
  });
});
