import type { Socket } from 'node:net';
// A CommonJS webpack bundle: only its default export exists at run time (no named ESM exports).
import dimse from 'dcmjs-dimse';
import { silenceLibraryLogs } from '../../../shared/dimse-library-logs.js';

/**
 * The agent's one door to dcmjs-dimse: its classes, silenced, and the two internals the client needs
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

// Silenced on load; re-exported for the test that proves it (the receiver's DICOM service uses it too).
export { silenceLibraryLogs };
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
