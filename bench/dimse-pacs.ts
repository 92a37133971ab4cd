import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../scripts/lib/free-port.js';

/**
 * A real Orthanc (Debian `orthanc`) as the PACS the `dimse` source crawls, set up as
 * test/agent/sources/dimse/support/pacs-orthanc.ts sets it up (the bench's build cannot import
 * test/): its DICOM server checks the called AE and answers only the agent's declared AE on
 * loopback. It runs with --verbose because Orthanc logs one line per C-FIND only at that level:
 * the agent does not count its queries, so the benchmark counts them here.
 */
export const AGENT_AET = 'INDEXER';
export const PACS_AET = 'BENCHPACS';

const FIND_LINE = `Incoming Find request from AET ${AGENT_AET} `;
const ASSOCIATION_LINE = `Association Received from AET ${AGENT_AET} `;

/** The Orthanc binary, or null when the package is not installed. */
export function orthancBinary(): string | null {
  for (const candidate of ['/usr/sbin/Orthanc', '/usr/bin/Orthanc']) {
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}

/** What the agent sent between two marks of the PACS's log. */
export interface DicomTraffic {
  finds: number;
  associations: number;
}

export class BenchPacs {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'pacs-indexer-bench-orthanc-'));
  private readonly logFile = path.join(this.dir, 'orthanc.log');
  httpPort = 0;
  dicomPort = 0;

  private get base(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  async start(binary: string): Promise<void> {
    this.httpPort = await freePort();
    this.dicomPort = await freePort();
    const storage = path.join(this.dir, 'storage');
    const configFile = path.join(this.dir, 'orthanc.json');
    writeFileSync(configFile, JSON.stringify({
      Name: 'bench-dimse', StorageDirectory: storage, IndexDirectory: storage, HttpPort: this.httpPort, DicomPort: this.dicomPort,
      DicomServerEnabled: true, DicomAet: PACS_AET, DicomCheckCalledAet: true, DicomCheckModalityHost: true,
      DicomModalities: { indexer: [AGENT_AET, '127.0.0.1', 11112] },
      DicomAlwaysAllowEcho: false, DicomAlwaysAllowFind: false, DicomAlwaysAllowStore: false, LimitFindResults: 0,
      RemoteAccessAllowed: false, AuthenticationEnabled: false, SaveJobs: false, Plugins: [], HttpCompressionEnabled: false,
    }, null, 2));
    const child = spawn(binary, ['--verbose', `--logfile=${this.logFile}`, configFile], { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (let i = 0; i < 300; i += 1) {
      if (child.exitCode !== null) throw new Error(`Orthanc exited at start (log: ${this.logFile})`);
      if (await fetch(`${this.base}/system`).then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('Orthanc did not answer within 30 s');
  }

  /** Stores DICOM files through the REST API (POST /instances), a few at a time. */
  async upload(files: readonly string[], concurrency = 4): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const file = files[next++]!;
        const res = await fetch(`${this.base}/instances`, { method: 'POST', body: readFileSync(file) });
        if (!res.ok) throw new Error(`Orthanc refused a generated file: HTTP ${res.status}`);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  async studyCount(): Promise<number> {
    const res = await fetch(`${this.base}/statistics`);
    if (!res.ok) throw new Error(`Orthanc GET /statistics answered ${res.status}`);
    return ((await res.json()) as { CountStudies: number }).CountStudies;
  }

  private logText(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** A place in the log to count from. */
  mark(): number {
    return Buffer.byteLength(this.logText());
  }

  /** The agent's C-FINDs and associations logged since `mark`, once the log has stopped growing. */
  async trafficSince(mark: number): Promise<DicomTraffic> {
    let text = this.logText();
    for (let i = 0; i < 20; i += 1) {
      await new Promise((r) => setTimeout(r, 100));
      const again = this.logText();
      if (again.length === text.length) break;
      text = again;
    }
    const since = Buffer.from(text).subarray(mark).toString('utf8');
    const count = (needle: string) => since.split('\n').filter((l) => l.includes(needle)).length;
    return { finds: count(FIND_LINE), associations: count(ASSOCIATION_LINE) };
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(killer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
