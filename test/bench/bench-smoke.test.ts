import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';

/**
 * Keeps `npm run bench` from rotting: the real runner (dist/, built by `npm test`) at a tiny size,
 * every figure, against the test server. Checks the shape of results.json, never a timing.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench (smoke, tiny sizes)', () => {
  it('runs every figure and writes results.json with machine, figures and the table', () => {
    const out = path.join(dir, 'results.json');
    const args = ['--studies', '300', '--legacy-sample', '50', '--changes', '20', '--pace', '20', '--trigger-studies', '10',
      '--trigger-cycles', '1', '--ingest-records', '600', '--query-studies', '300', '--idle-runs', '2', '--dimse-studies', '60', '--out', out];
    const run = spawnSync(process.execPath, [path.join(ROOT, 'dist/bench/run.js'), ...args], {
      cwd: ROOT, encoding: 'utf8', timeout: 110_000, env: { ...process.env, INDEXER_BENCH_MYSQL_URL: inject('mysqlUrl') },
    });
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8')) as Record<string, any>;
    expect(results.mode).toBe('quick');
    expect(Date.parse(results.date)).not.toBeNaN();
    for (const k of ['cpu', 'cores', 'memoryGiB', 'os', 'node', 'database']) expect(results.machine[k], k).toBeTruthy();
    const f = results.figures;
    expect(f.initial.studies).toBe(300);
    expect(f.initial.storedAtReceiver).toBe(300);
    expect(f.initial.studiesPerSecond).toBeGreaterThan(0);
    expect(f.initial.peakRssMiB).toBeGreaterThan(10);
    expect(f.legacy.posted).toBe(50);
    expect(f.legacy.statuses['201']).toBe(50);
    expect(f.changeLatency.changes).toBe(20);
    expect(f.changeLatency.timedOut).toBe(0);
    expect(f.triggerOverhead.ratio).toBeGreaterThan(0);
    // The pass is measured inside the process: a real figure is positive and below the whole run.
    expect(f.idleSync.passMs).toBeGreaterThan(0);
    expect(f.idleSync.passMs).toBeLessThan(f.idleSync.processMs);
    const figures = new Set((results.table as { figure: string }[]).map((r) => r.figure.split('.')[0]));
    expect([...figures].sort()).toEqual(['1', '1b', '2', '3', '4', '5', '6', '7', '8', '8b']);
    for (const row of results.table) expect(['met', 'missed', 'n/a', 'TODO']).toContain(row.status);
    expect(run.stdout).toContain('| figure');
  }, 120_000);
});
