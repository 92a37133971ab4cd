import { createRequire } from 'node:module';
// A CommonJS webpack bundle: only its default export exists at run time (no named ESM exports).
import dimseLibrary from 'dcmjs-dimse';

interface Leveled {
  setLevel(level: 'silent'): void;
  getLoggers?(): Record<string, Leveled>;
}

function silence(log: Leveled | undefined): void {
  if (!log || typeof log.setLevel !== 'function') return;
  log.setLevel('silent');
  for (const child of Object.values(log.getLoggers?.() ?? {})) child.setLevel('silent');
}

/**
 * Both libraries log through loglevel to the console, dcmjs-dimse at INFO (every association,
 * every command) and dcmjs its own bundled copy at WARN — a warning may quote a value, so a
 * patient's. Neither may ever print: the agent's DIMSE client and the receiver's DICOM service
 * report through their own typed errors and logs. Idempotent.
 */
export function silenceLibraryLogs(): void {
  silence(dimseLibrary.log as unknown as Leveled);
  try {
    // dcmjs is dcmjs-dimse's dependency, resolved from it so a nested copy is the one silenced.
    const requireFromDimse = createRequire(createRequire(import.meta.url).resolve('dcmjs-dimse'));
    silence((requireFromDimse('dcmjs') as { log?: Leveled }).log);
  } catch {
    // No separate dcmjs to silence (a bundled build): nothing else prints.
  }
}
