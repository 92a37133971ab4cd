import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../../helpers/orthanc.js';

/**
 * DCMTK's dcmqrscp (Debian `dcmtk`) as a small PACS: studies go in with storescu, C-FIND reads
 * its index. At study level it returns neither ModalitiesInStudy nor the study-related counts.
 * It runs in its default fork mode (DCMTK 3.6.7's single-process mode crashes after a release)
 * in its own process group, stopped as a group. It has no bind option: it listens on every
 * interface of the test machine, on a free port, for the one AE title configured.
 */
export interface DcmqrscpOptions {
  aet: string;
  /** The config's SpecificCharacterSet line, e.g. `"ISO_IR 192", override` (default: DCMTK's fallback). */
  characterSet?: string;
}

const run = promisify(execFile);

export class Dcmqrscp {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  readonly dir = mkdtempSync(join(tmpdir(), 'indexer-dcmqrscp-'));
  port = 0;

  constructor(readonly options: DcmqrscpOptions) {}

  get aet(): string {
    return this.options.aet;
  }

  get log(): string {
    try {
      return readFileSync(join(this.dir, 'dcmqrscp.log'), 'utf8');
    } catch {
      return '';
    }
  }

  private writeConfig(): string {
    const db = join(this.dir, 'db');
    mkdirSync(db);
    const lines = [
      `NetworkTCPPort = ${this.port}`, 'MaxPDUSize = 16384', 'MaxAssociations = 16',
      ...(this.options.characterSet ? [`SpecificCharacterSet = ${this.options.characterSet}`] : []),
      'HostTable BEGIN', 'HostTable END', 'VendorTable BEGIN', 'VendorTable END',
      'AETable BEGIN', `${this.options.aet} ${db} RW (500, 1024mb) ANY`, 'AETable END',
    ];
    const path = join(this.dir, 'dcmqrscp.cfg');
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    const config = this.writeConfig();
    const child = spawn('dcmqrscp', ['-c', config, '-ll', 'warn'], { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    child.stderr?.on('data', (d: Buffer) => writeFileSync(join(this.dir, 'dcmqrscp.log'), d, { flag: 'a' }));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`dcmqrscp exited at start:\n${this.log}`);
      if (await listening(this.port)) return this;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`dcmqrscp did not listen on ${this.port}:\n${this.log}`);
  }

  /** C-STORE with storescu, as a modality sends. */
  async store(files: readonly string[]): Promise<void> {
    await run('storescu', ['-aet', 'MODALITY', '-aec', this.options.aet, '127.0.0.1', String(this.port), ...files]);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(killer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startDcmqrscp(options: DcmqrscpOptions): Promise<Dcmqrscp> {
  const server = new Dcmqrscp(options);
  try {
    return await server.start();
  } catch (err) {
    await server.stop();
    throw err;
  }
}
