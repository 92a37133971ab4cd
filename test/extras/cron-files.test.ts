import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../agent/support/agent-harness.js';

/**
 * The shipped cron files, read the way cron reads them: a user crontab (`crontab FILE`) has five
 * time fields then the command; an /etc/cron.d file has five time fields, the user, then the
 * command. Mixing them up runs the user name as the command (issue 10), so each file is parsed
 * in its own format and the documented install step is checked against that format.
 */
type CronFormat = 'user' | 'system';

interface CronEntry {
  schedule: string;
  user: string | null;
  command: string;
}

const FIELD_RANGES: [number, number][] = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]];

/** One cron time field: `*`, `N`, `N-M`, lists, `/step`, within the field's range. */
function validField(field: string, [min, max]: [number, number]): boolean {
  return field.split(',').every((part) => {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return false;
    const nums = [m[2], m[3], m[4]].filter((x): x is string => x !== undefined).map(Number);
    return nums.slice(0, m[3] === undefined ? 1 : 2).every((n) => n >= min && n <= max) && (m[4] === undefined || Number(m[4]) > 0);
  });
}

function parseCron(text: string, format: CronFormat): CronEntry[] {
  const entries: CronEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (/^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(line)) continue; // an environment setting, not a job
    const fields = format === 'system' ? 6 : 5;
    const m = new RegExp(`^((?:\\S+\\s+){${fields}})(.+)$`).exec(line);
    if (!m) throw new Error(`not a ${format} cron line: ${line}`);
    const head = m[1]!.trim().split(/\s+/);
    const time = head.slice(0, 5);
    time.forEach((f, i) => {
      if (!validField(f, FIELD_RANGES[i]!)) throw new Error(`invalid time field ${JSON.stringify(f)} in: ${line}`);
    });
    entries.push({ schedule: time.join(' '), user: format === 'system' ? head[5]! : null, command: m[2]! });
  }
  return entries;
}

/** The program a cron command runs: its first word after any VAR=value assignments. */
function programOf(command: string): { program: string; args: string[] } {
  const words = command.split(/\s+/);
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words.shift();
  return { program: words[0]!, args: words.slice(1) };
}

const INSTALL_DIR = '/opt/pacs-indexer';
const WRAPPER = join(REPO_ROOT, 'extras/indexer-cron.sh');
const CASES = [
  { file: 'extras/indexer.cron', format: 'user' as const, schedule: '*/5 * * * *', verb: 'sync' },
  { file: 'extras/indexer-reconcile.cron', format: 'user' as const, schedule: '17 3 * * *', verb: 'reconcile' },
  { file: 'extras/cron.d/indexer', format: 'system' as const, schedule: '*/5 * * * *', verb: 'sync' },
  { file: 'extras/cron.d/indexer-reconcile', format: 'system' as const, schedule: '17 3 * * *', verb: 'reconcile' },
];
/** A shell step that installs a cron file (not prose that mentions one). */
const INSTALL_STEP = /\|\s*crontab -|\bcrontab extras\/|\bcp\s+\S|\binstall\s+-m/;
const DOCS = ['README.md', 'docs/agent.md', 'docs/reconcile.md'].map((f) => ({ f, text: readFileSync(join(REPO_ROOT, f), 'utf8') }));

describe('shipped cron files', () => {
  for (const c of CASES) {
    it(`${c.file}: a ${c.format} crontab running the wrapper with \`${c.verb}\` on ${c.schedule}`, () => {
      const text = readFileSync(join(REPO_ROOT, c.file), 'utf8');
      const entries = parseCron(text, c.format);
      expect(entries).toHaveLength(1);
      const e = entries[0]!;
      expect(e.schedule).toBe(c.schedule);
      // cron turns an unescaped % into a newline: none may appear in a command.
      expect(e.command).not.toMatch(/(^|[^\\])%/);
      const { program, args } = programOf(e.command);
      expect(program).toBe(`${INSTALL_DIR}/extras/indexer-cron.sh`);
      expect(args).toEqual([c.verb]);
      if (c.format === 'system') expect(e.user).toBe('indexer');
    });

    it(`${c.file}: every documented install step matches its format`, () => {
      const mentions = new RegExp(`${c.file.replace(/[.]/g, '\\.')}(?![\\w.-])`);
      const steps = [...DOCS, { f: c.file, text: readFileSync(join(REPO_ROOT, c.file), 'utf8') }]
        .flatMap(({ f, text }) => text.split('\n').map((line) => ({ f, line })))
        .filter(({ line }) => mentions.test(line) && INSTALL_STEP.test(line));
      if (c.file === 'extras/indexer.cron' || c.file === 'extras/cron.d/indexer') expect(steps.length).toBeGreaterThan(0);
      for (const { f, line } of steps) {
        if (c.format === 'user') {
          expect(line, `${f}: ${line}`).toMatch(new RegExp(`\\|\\s*crontab -|crontab ${mentions.source}`));
          expect(line, `${f}: ${line}`).not.toContain('/etc/cron.d');
        } else {
          expect(line, `${f}: ${line}`).toMatch(new RegExp(`/etc/cron\\.d/${basename(c.file)}(?![\\w.-])`));
          expect(line, `${f}: ${line}`).not.toMatch(/\|\s*crontab -|\bcrontab extras/);
        }
      }
    });
  }

  it('/etc/cron.d names have no dot (cron ignores such files); the wrapper exists and is executable', () => {
    for (const c of CASES.filter((x) => x.format === 'system')) expect(basename(c.file)).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(existsSync(WRAPPER)).toBe(true);
    accessSync(WRAPPER, constants.X_OK);
  });

  it('the README says to adjust the install folder and the OS user, and that the user writes the log folder', () => {
    const readme = DOCS[0]!.text;
    const at = readme.indexOf('extras/indexer.cron');
    const section = readme.slice(at, readme.indexOf('\n| command |', at));
    expect(section).toMatch(/`\/opt\/pacs-indexer`[^.]*OS user `indexer`: edit both/);
    expect(section).toMatch(/needs write access to the log folder/);
  });

  it('the README has each generated-section marker exactly once', () => {
    const readme = DOCS[0]!.text;
    for (const m of ['benchmark:start', 'benchmark:end', 'reliability:start', 'reliability:end']) {
      expect(readme.split(`<!-- ${m} -->`).length - 1, m).toBe(1);
    }
  });

  it('the README says what the sync file does: every 5 minutes', () => {
    const readme = DOCS[0]!.text;
    const line = readme.split('\n').find((l) => l.includes('extras/indexer.cron'))!;
    expect(line).toMatch(/every 5 minutes/);
  });
});

describe('extras/indexer-cron.sh', () => {
  /** An install folder with a fake agent: `slow` holds the run (and so the lock) for 3 s. */
  const home = (tmp?: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'indexer-cron-'));
    const bin = join(dir, 'fake-indexer');
    writeFileSync(bin, '#!/bin/sh\n[ "$1" = slow ] && sleep 3\necho "ran: $*"\n');
    chmodSync(bin, 0o755);
    return { dir, log: join(dir, 'log/indexer.log'), env: { PATH: process.env.PATH ?? '', INDEXER_HOME: dir, INDEXER_BIN: bin, TMPDIR: tmp ?? dir } };
  };
  const logOf = (h: { log: string }) => (existsSync(h.log) ? readFileSync(h.log, 'utf8') : '');
  /** Starts a slow run and gives it time to take the lock. */
  const holdLock = async (h: ReturnType<typeof home>, args: string[] = []) => {
    const holder = spawn(WRAPPER, ['slow', ...args], { env: h.env, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    return holder;
  };

  it('runs the agent command from the install directory, appending to the log', () => {
    const h = home();
    const r = spawnSync(WRAPPER, ['reconcile'], { env: h.env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(h.dir, 'log/indexer.log'), 'utf8')).toContain('ran: reconcile');
  });

  it('skips at once while another run of the same install holds the lock; with INDEXER_LOCK_WAIT it waits, then exits 4', async () => {
    const h = home();
    const holder = await holdLock(h);
    try {
      const skipped = spawnSync(WRAPPER, ['sync'], { env: h.env, encoding: 'utf8' });
      expect(skipped.status).toBe(0);
      const started = Date.now();
      const waited = spawnSync(WRAPPER, ['reconcile'], { env: { ...h.env, INDEXER_LOCK_WAIT: '1' }, encoding: 'utf8' });
      expect(waited.status).toBe(4);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      const log = logOf(h);
      expect(log).toContain('previous indexer run still active: skipped');
      expect(log).toContain('gave up');
      expect(log).not.toContain('ran: sync');
      expect(log).not.toContain('ran: reconcile');
    } finally {
      holder.kill();
    }
  });

  it('locks per install: two installs (or two --config files) run by one OS user never skip each other', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'indexer-cron-tmp-'));
    const a = home(tmp);
    const b = home(tmp);
    const holder = await holdLock(a);
    try {
      const other = spawnSync(WRAPPER, ['sync'], { env: b.env, encoding: 'utf8' });
      expect(other.status, other.stderr).toBe(0);
      expect(logOf(b)).toContain('ran: sync');
      const otherConfig = spawnSync(WRAPPER, ['sync', '--config', 'centre-2.json'], { env: a.env, encoding: 'utf8' });
      expect(otherConfig.status, otherConfig.stderr).toBe(0);
      expect(logOf(a)).toContain('ran: sync --config centre-2.json');
      const same = spawnSync(WRAPPER, ['reconcile'], { env: a.env, encoding: 'utf8' });
      expect(same.status).toBe(0);
      expect(logOf(a)).toContain('previous indexer run still active: skipped');
      expect(logOf(a)).not.toContain('ran: reconcile');
    } finally {
      holder.kill();
    }
  });
});
