import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, orthancBinary } from '../../../../helpers/orthanc.js';

/**
 * A real Orthanc (Debian `orthanc`) as the PACS a DIMSE client queries: its DICOM server on a
 * free port with the AE-title checks a hospital's PACS makes (test/helpers/orthanc.ts starts
 * Orthanc for its REST API; this one sets the DICOM options that one does not have).
 * Orthanc 1.10 binds all interfaces and has no bind option; its REST API answers loopback only,
 * and its DICOM server only the AE titles declared here.
 */
export interface PacsOrthancOptions {
  aet: string;
  /** Declared AEs: name → [AE title, host, port]. */
  modalities?: Record<string, [string, string, number]>;
  checkCalledAet?: boolean;
  alwaysAllowEcho?: boolean;
  alwaysAllowFind?: boolean;
  limitFindResults?: number;
  /** Orthanc's DefaultEncoding (the character set of its C-FIND answers), e.g. "Latin1", "Utf8". */
  defaultEncoding?: string;
  tls?: { cert: string; key: string; ca: string };
}

export class PacsOrthanc {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly dir = mkdtempSync(join(tmpdir(), 'indexer-dimse-orthanc-'));
  httpPort = 0;
  dicomPort = 0;

  constructor(readonly options: PacsOrthancOptions) {}

  get aet(): string {
    return this.options.aet;
  }

  get log(): string {
    try {
      return readFileSync(join(this.dir, 'orthanc.log'), 'utf8');
    } catch {
      return '';
    }
  }

  private config(): Record<string, unknown> {
    const o = this.options;
    return {
      Name: `dimse-${o.aet}`, StorageDirectory: join(this.dir, 'storage'), IndexDirectory: join(this.dir, 'storage'),
      HttpPort: this.httpPort, DicomPort: this.dicomPort, DicomServerEnabled: true, DicomAet: o.aet,
      DicomCheckCalledAet: o.checkCalledAet ?? true, DicomAlwaysAllowEcho: o.alwaysAllowEcho ?? false,
      DicomAlwaysAllowFind: o.alwaysAllowFind ?? false, DicomAlwaysAllowStore: false, DicomCheckModalityHost: true,
      DicomModalities: o.modalities ?? {}, LimitFindResults: o.limitFindResults ?? 0, DefaultEncoding: o.defaultEncoding ?? 'Latin1',
      RemoteAccessAllowed: false, AuthenticationEnabled: false, SaveJobs: false, Plugins: [], HttpCompressionEnabled: false,
      ...(o.tls ? {
        DicomTlsEnabled: true, DicomTlsCertificate: o.tls.cert, DicomTlsPrivateKey: o.tls.key,
        DicomTlsTrustedCertificates: o.tls.ca, DicomTlsRemoteCertificateRequired: true,
      } : {}),
    };
  }

  async start(): Promise<this> {
    this.httpPort = await freePort();
    this.dicomPort = await freePort();
    return this.launch();
  }

  private async launch(): Promise<this> {
    const configPath = join(this.dir, 'orthanc.json');
    writeFileSync(configPath, JSON.stringify(this.config(), null, 2));
    const child = spawn(orthancBinary(), [`--logfile=${join(this.dir, 'orthanc.log')}`, configPath], { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) throw new Error(`Orthanc exited at start:\n${this.log.slice(-2000)}`);
      if (await this.answers()) return this;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Orthanc did not start:\n${this.log.slice(-2000)}`);
  }

  private async answers(): Promise<boolean> {
    try {
      return (await fetch(`http://127.0.0.1:${this.httpPort}/system`)).ok;
    } catch {
      return false;
    }
  }

  /** Stores DICOM files through the REST API (POST /instances). */
  async upload(files: readonly string[]): Promise<void> {
    for (const file of files) {
      const res = await fetch(`http://127.0.0.1:${this.httpPort}/instances`, { method: 'POST', body: readFileSync(file) });
      if (!res.ok) throw new Error(`Orthanc refused ${file}: HTTP ${res.status} ${await res.text()}`);
    }
  }

  /** Deletes a study by its StudyInstanceUID through the REST API. */
  async deleteStudy(studyUid: string): Promise<void> {
    const base = `http://127.0.0.1:${this.httpPort}`;
    const found = await (await fetch(`${base}/tools/lookup`, { method: 'POST', body: studyUid })).json() as { ID: string; Type: string }[];
    const study = found.find((f) => f.Type === 'Study');
    if (!study) throw new Error(`Orthanc holds no study ${studyUid}`);
    const res = await fetch(`${base}/studies/${study.ID}`, { method: 'DELETE' });
    if (!res.ok) throw new Error(`Orthanc refused to delete ${studyUid}: HTTP ${res.status}`);
  }

  /** Stops the server and keeps its storage: a PACS down for maintenance (`resume` brings it back). */
  async halt(): Promise<void> {
    if (this.child && this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(killer);
    }
  }

  /** Starts a halted server again, on the same ports, with the same studies. */
  resume(): Promise<this> {
    return this.launch();
  }

  async stop(): Promise<void> {
    await this.halt();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startPacsOrthanc(options: PacsOrthancOptions): Promise<PacsOrthanc> {
  const server = new PacsOrthanc(options);
  try {
    return await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
}
