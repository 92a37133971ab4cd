import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
// A CommonJS webpack bundle: only its default export exists at run time (no named ESM exports).
import dimse from 'dcmjs-dimse';

/**
 * The one door to dcmjs-dimse: its classes, silenced, and the two internals the client needs
 * because the library does not expose them (see dimse-client.ts for why).
 */
export const { Client } = dimse;
export const { CFindRequest, CEchoRequest } = dimse.requests;
export const { Status, AbortSource, AbortReason, PresentationContextResult } = dimse.constants;

export type DimseClientHandle = InstanceType<typeof Client>;
export type DimseRequest = InstanceType<typeof CFindRequest> | InstanceType<typeof CEchoRequest>;
/** A C-FIND or C-ECHO response as the library hands it over. */
export interface DimseResponse {
  getStatus(): number;
  hasDataset(): boolean;
  getDataset(): { getElements(): Record<string, unknown> } | undefined;
}

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
 * patient's. Neither may ever print: the agent reports through its own typed errors.
 */
export function silenceLibraryLogs(): void {
  silence(dimse.log as unknown as Leveled);
  try {
    // dcmjs is dcmjs-dimse's dependency, resolved from it so a nested copy is the one silenced.
    const requireFromDimse = createRequire(createRequire(import.meta.url).resolve('dcmjs-dimse'));
    silence((requireFromDimse('dcmjs') as { log?: Leveled }).log);
  } catch {
    // No separate dcmjs to silence (a bundled build): nothing else prints.
  }
}

silenceLibraryLogs();

/** The library's per-association object: set by `send()`, cleared when the socket closes. */
interface NetworkInternals {
  socket?: Socket;
  on(event: 'abort', listener: (info: { source: number; reason: number }) => void): void;
}

/**
 * The association's Network (internal): its `abort` event is the only sign of an A-ABORT (the
 * Client does not forward it), and its socket the only way to close a connection at once.
 */
export function networkOf(client: DimseClientHandle): NetworkInternals | undefined {
  const network = (client as unknown as { network?: NetworkInternals }).network;
  return network && typeof network.on === 'function' ? network : undefined;
}
