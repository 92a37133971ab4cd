import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dimse from 'dcmjs-dimse';
import { createLogger } from '../../../src/shared/logger.js';
import { startDicomService, type DicomService, type DicomServiceSettings } from '../../../src/receiver/dimse/dicom-server.js';
import { DicomClientStore } from '../../../src/receiver/store/dicom-client-store.js';
import { seed, type Seeded } from '../dicomweb/qido-fixtures.js';

/**
 * The QIDO-RS tests' seeded index (test/receiver/dicomweb/qido-fixtures.ts: three centres, RUTs
 * spelled three ways, accents, tombstones…) served over DICOM by the receiver's C-FIND SCP,
 * in-process on an ephemeral loopback port, with the workstation `WS1` listed for the token
 * `central`; and DCMTK's findscu/echoscu to query it.
 */

export const INDEX_AET = 'NATIONAL_INDEX';
export const WORKSTATION = 'WS1';

export interface DicomIndex {
  s: Seeded;
  clients: DicomClientStore;
  service: DicomService;
  port: number;
  logLines: string[];
  close(): Promise<void>;
}

export async function startDicomIndex(prefix: string, settings: Partial<DicomServiceSettings> = {}, seedOptions: Parameters<typeof seed>[1] = {}): Promise<DicomIndex> {
  const s = await seed(prefix, seedOptions);
  const clients = new DicomClientStore(s.rx.pool);
  await clients.add(WORKSTATION, 'central', null);
  const logLines: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
  const service = await startDicomService({ store: s.rx.store, clients, log }, {
    host: '127.0.0.1', port: 0, aet: INDEX_AET, maxResults: 1000, maxAssociations: 8, associationTimeoutMs: 5000, idleTimeoutMs: 15_000, ...settings,
  });
  return {
    s, clients, service, port: service.port, logLines,
    async close() {
      await service.close(1000);
      await s.rx.close();
    },
  };
}

export interface ToolRun {
  code: number | null;
  /** stdout and stderr together (DCMTK logs to either). */
  output: string;
}

export function run(tool: string, args: string[], cwd?: string, timeoutMs = 30_000): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(tool, args, { cwd, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) ?? null : 0;
      resolve({ code: typeof code === 'number' ? code : null, output: `${stdout}${stderr}` });
    });
  });
}

export interface FindRun extends ToolRun {
  /** Each answer as dcmjs reads its file (text decoded by its SpecificCharacterSet). */
  answers: Record<string, unknown>[];
  /** Each answer's bytes as received (findscu -X). */
  files: Buffer[];
  /** The final status findscu reports, as 4 hex digits (lower case), or null. */
  status: string | null;
}

export interface FindOptions {
  port: number;
  keys: string[];
  patientRoot?: boolean;
  aet?: string;
  called?: string;
  extra?: string[];
  /** A query file (queryFile) sent instead of, or besides, the -k keys. */
  file?: string;
}

/** findscu -S (or -P) with `-k` keys, answers extracted to files and read back. */
export async function findscu(o: FindOptions): Promise<FindRun> {
  const dir = mkdtempSync(join(tmpdir(), 'rx-findscu-'));
  try {
    const args = ['-v', '-d', o.patientRoot ? '-P' : '-S', '-aet', o.aet ?? WORKSTATION, '-aec', o.called ?? INDEX_AET, '-X',
      ...(o.extra ?? []), ...o.keys.flatMap((k) => ['-k', k]), '127.0.0.1', String(o.port), ...(o.file ? [o.file] : [])];
    const r = await run('findscu', args, dir);
    const names = readdirSync(dir).filter((f) => /^rsp\d+\.dcm$/.test(f)).sort();
    const files = names.map((f) => readFileSync(join(dir, f)));
    const answers = names.map((f) => (dimse.Dataset.fromFile(join(dir, f)) as { getElements(): Record<string, unknown> }).getElements());
    const statuses = [...r.output.matchAll(/Status\s*:\s*0x([0-9a-f]{4})/gi)].map((m) => m[1]!.toLowerCase());
    return { ...r, answers, files, status: statuses.at(-1) ?? null };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The ErrorComment of the final response, as findscu -d prints it; '' when none. */
export function errorCommentOf(output: string): string {
  const tail = output.slice(output.lastIndexOf('Received Final Find Response'));
  return /\(0000,0902\) LO \[([^\]]*)\]/.exec(tail)?.[1]?.trimEnd() ?? '';
}

export const echoscu = (port: number, aet = WORKSTATION, called = INDEX_AET): Promise<ToolRun> =>
  run('echoscu', ['-v', '-aet', aet, '-aec', called, '127.0.0.1', String(port)]);

/**
 * A query identifier file made by DCMTK's dump2dcm from dump lines written in `encoding`: the
 * way to send text in a character set other than the command line's (findscu copies -k bytes as
 * they are). The caller removes `dir`.
 */
export async function queryFile(dir: string, lines: string[], encoding: 'latin1' | 'utf8'): Promise<string> {
  const dump = join(dir, 'query.txt');
  const file = join(dir, 'query.dcm');
  writeFileSync(dump, Buffer.from(`${lines.join('\n')}\n`, encoding));
  const r = await run('dump2dcm', [dump, file]);
  if (r.code !== 0) throw new Error(`dump2dcm failed: ${r.output}`);
  return file;
}

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'rx-dimse-'));
