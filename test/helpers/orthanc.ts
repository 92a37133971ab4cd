import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/free-port.js';

/**
 * A real Orthanc (Debian package `orthanc`, `apt-get install -y orthanc`) started by a test as a
 * child process, with its own storage folder and configuration, on free ports, torn down after.
 * Orthanc 1.10 has no bind-address option: HTTP answers loopback clients only
 * (RemoteAccessAllowed false) and the DICOM server, when asked for, accepts associations only
 * from the test's own AET on 127.0.0.1.
 */
export interface OrthancOptions {
  /** Basic-auth users (login → password); none: authentication off. */
  users?: Record<string, string>;
  /** Start the DICOM server (for storescu). */
  dicom?: boolean;
  /** Seconds without a new instance before a study is stable. */
  stableAge?: number;
  /** More configuration, merged over the defaults (plugins and their sections, e.g. DicomWeb). */
  config?: Record<string, unknown>;
  /** Orthanc's own --verbose log (plugins' messages). */
  verbose?: boolean;
}

export const STORE_AET = 'INDEXERTEST';

export function orthancBinary(): string {
  for (const candidate of ['/usr/sbin/Orthanc', '/usr/bin/Orthanc']) {
    if (spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  throw new Error('Orthanc is not installed: apt-get install -y orthanc (or run bash .ci/run)');
}

export { freePort };

export class OrthancServer {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  httpPort = 0;
  dicomPort = 0;
  readonly dir = mkdtempSync(join(tmpdir(), 'indexer-orthanc-'));

  constructor(private readonly options: OrthancOptions = {}) {}

  /** The base URL without credentials. */
  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** An Authorization header for the first configured user, for the test's own requests. */
  get authHeader(): Record<string, string> {
    const [user, password] = Object.entries(this.options.users ?? {})[0] ?? [];
    return user ? { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } : {};
  }

  get log(): string {
    try {
      return readFileSync(join(this.dir, 'orthanc.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async start(): Promise<this> {
    this.httpPort = await freePort();
    this.dicomPort = await freePort();
    const users = this.options.users ?? {};
    const config = {
      Name: 'indexer-test',
      StorageDirectory: join(this.dir, 'storage'),
      IndexDirectory: join(this.dir, 'storage'),
      HttpPort: this.httpPort,
      DicomPort: this.dicomPort,
      DicomServerEnabled: this.options.dicom ?? false,
      DicomAlwaysAllowEcho: false,
      DicomAlwaysAllowStore: false,
      DicomCheckModalityHost: true,
      DicomModalities: { test: [STORE_AET, '127.0.0.1', 104] },
      RemoteAccessAllowed: false,
      AuthenticationEnabled: Object.keys(users).length > 0,
      RegisteredUsers: users,
      StableAge: this.options.stableAge ?? 1,
      SaveJobs: false,
      Plugins: [],
      HttpCompressionEnabled: false,
      ...this.options.config,
    };
    const configPath = join(this.dir, 'orthanc.json');
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const logFile = join(this.dir, 'orthanc.log');
    const child = spawn(orthancBinary(), [`--logfile=${logFile}`, ...(this.options.verbose ? ['--verbose'] : []), configPath], { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await this.waitReady();
    return this;
  }

  private async waitReady(): Promise<void> {
    for (let i = 0; i < 300; i++) {
      if (this.child?.exitCode !== null) throw new Error(`Orthanc exited at start:\n${this.log.slice(-2000)}`);
      try {
        const res = await fetch(`${this.url}/system`, { headers: this.authHeader });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Orthanc did not answer on ${this.url}:\n${this.log.slice(-2000)}`);
  }

  /** A REST call as the test (with the configured credentials). */
  async rest<T>(method: string, path: string, body?: Buffer | string): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { method, headers: this.authHeader, body });
    const text = await res.text();
    if (!res.ok) throw new Error(`Orthanc ${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  /** Waits until every study is stable (Orthanc then has logged StableStudy for each). */
  async waitStable(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const studies = await this.rest<{ IsStable: boolean }[]>('GET', '/studies?expand');
      if (studies.every((s) => s.IsStable)) return;
      if (Date.now() > until) throw new Error('Orthanc studies did not become stable');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(killer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<OrthancServer> {
  const server = new OrthancServer(options);
  try {
    return await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
}
