import { createRequire } from 'node:module';
import { afterAll, expect, it, vi } from 'vitest';
import dimse from 'dcmjs-dimse';
import { DimseClient } from '../../../../src/agent/sources/dimse/dimse-client.js';
import { silenceLibraryLogs } from '../../../../src/agent/sources/dimse/dimse-library.js';
import { startScriptedScp, type ScriptedScp } from './support/scripted-scp.js';

/**
 * dcmjs-dimse logs every association and command at INFO (with `logDatasets`, the answers), and
 * dcmjs, with its own bundled logger, warns while reading and writing datasets — some of its
 * warnings quote the value. Loading the client silences both; this proves it by putting both
 * back to their defaults and seeing each print (an association, a character set dcmjs does not
 * know), then silencing them and seeing nothing printed for the same exchange.
 */
type Leveled = { setLevel(level: string): void; enableAll(): void };
const dcmjs = createRequire(createRequire(import.meta.url).resolve('dcmjs-dimse'))('dcmjs') as { log: Leveled };

let server: ScriptedScp | undefined;
afterAll(async () => {
  silenceLibraryLogs();
  await server?.stop();
});

it('the libraries print nothing once the client is loaded', async () => {
  const printed: string[] = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
  }
  server = await startScriptedScp({ answers: [{ SpecificCharacterSet: 'ISO_IR 999', StudyInstanceUID: '1.2.3', PatientName: 'SECRETO^PACIENTE' }] });
  const query = (): Promise<unknown> => new DimseClient({ host: '127.0.0.1', port: server!.port, calledAet: 'SCP', callingAet: 'INDEXER' }).findStudies({});

  // Their defaults (loglevel binds console methods when a level is set, so the spies see them).
  dimse.log.enableAll();
  dcmjs.log.setLevel('warn');
  await query();
  expect(printed.some((line) => /Association request/.test(line))).toBe(true);
  expect(printed.some((line) => /Unsupported character set/.test(line))).toBe(true);

  printed.length = 0;
  silenceLibraryLogs();
  await query();
  expect(printed).toEqual([]);
});
