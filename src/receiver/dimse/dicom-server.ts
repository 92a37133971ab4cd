import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from '../../shared/logger.js';
import type { DicomClientStore } from '../store/dicom-client-store.js';
import type { ReceiverStore } from '../store/receiver-store.js';
import { PduGuard, RawMessages } from './pdu-guard.js';
import { IndexScp } from './scp-connection.js';

/**
 * The receiver's DICOM service (C-ECHO, C-FIND; docs/dimse.md): its own listener on the configured
 * address (dcmjs-dimse's Server binds every interface), optional TLS, a cap on associations,
 * the guard on every socket, and a shutdown that lets queries in flight finish first.
 */

export interface DicomServiceSettings {
  host: string;
  port: number;
  aet: string;
  maxResults: number;
  maxAssociations: number;
  associationTimeoutMs: number;
  idleTimeoutMs: number;
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; requireClientCert: boolean };
}

export interface DicomServiceDeps {
  store: ReceiverStore;
  clients: DicomClientStore;
  log: Logger;
}

export interface DicomService {
  /** The port listened on (the configured one, or the one given for 0). */
  port: number;
  /** Stops accepting, waits up to `graceMs` for queries in flight, then aborts every association. */
  close(graceMs?: number): Promise<void>;
}

/** What we receive at most per PDU (A-ASSOCIATE-AC), and per DIMSE message: an identifier is small. */
const MAX_PDU = 256 * 1024;
const LIMITS = { maxPduBytes: MAX_PDU + 1024, maxMessageBytes: 1024 * 1024 };
/**
 * Connections that have not asked for an association yet: a few per address, and in all at most
 * four times the association cap (16 at least), so silent sockets from one host or a few take
 * neither the slots nor the door of workstations that do associate; they are closed at the
 * association timeout anyway. Associations themselves are counted once asked for.
 */
const PENDING_PER_ADDRESS = 4;
const pendingCap = (maxAssociations: number): number => Math.max(16, maxAssociations * 4);

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

export async function startDicomService(deps: DicomServiceDeps, s: DicomServiceSettings): Promise<DicomService> {
  const log = deps.log.child({ component: 'dicom' });
  const live = new Set<IndexScp>();
  const sockets = new Set<Socket>();
  const find = { store: deps.store, clients: deps.clients, log, maxResults: s.maxResults };
  const settings = { aet: s.aet, associationTimeoutMs: s.associationTimeoutMs, idleTimeoutMs: s.idleTimeoutMs, maxPduBytes: MAX_PDU };

  const pending = new Map<string, number>();
  let pendingTotal = 0;

  const onSocket = (socket: Socket): void => {
    socket.on('error', () => undefined);
    const address = socket.remoteAddress ?? '?';
    if (pendingTotal >= pendingCap(s.maxAssociations) || (pending.get(address) ?? 0) >= PENDING_PER_ADDRESS) {
      socket.destroy();
      return;
    }
    let waiting = true;
    pendingTotal += 1;
    pending.set(address, (pending.get(address) ?? 0) + 1);
    const requested = (): void => {
      if (!waiting) return;
      waiting = false;
      pendingTotal -= 1;
      const left = (pending.get(address) ?? 1) - 1;
      if (left > 0) pending.set(address, left);
      else pending.delete(address);
    };
    sockets.add(socket);
    socket.setNoDelay(true);
    const messages = new RawMessages();
    let scp: IndexScp | undefined;
    const guard = new PduGuard(LIMITS, (m) => messages.add(m), (reason) => {
      log.warn({ address: socket.remoteAddress, reason }, 'association closed: over a protocol limit');
      if (scp) scp.drop();
      else socket.destroy();
    });
    // Registered before the library's own listener: the guard sees each chunk first.
    socket.on('data', (chunk: Buffer) => guard.feed(chunk));
    const claimSlot = (): boolean => {
      if (live.size >= s.maxAssociations) return false;
      live.add(scp!);
      return true;
    };
    scp = new IndexScp(socket, { find, clients: deps.clients, log, settings, claimSlot, requested, messages });
    socket.on('close', () => {
      requested();
      sockets.delete(socket);
      live.delete(scp!);
    });
  };

  const server: Server = s.tls
    ? createTlsServer({
      cert: s.tls.cert, key: s.tls.key, ...(s.tls.ca ? { ca: s.tls.ca } : {}), minVersion: 'TLSv1.2',
      requestCert: s.tls.requireClientCert, rejectUnauthorized: s.tls.requireClientCert, handshakeTimeout: s.associationTimeoutMs,
    }, onSocket)
    : createServer(onSocket);
  // A failed TLS handshake (no certificate, an untrusted one) closes that socket only.
  server.on('tlsClientError', () => undefined);
  const port = await listen(server, s.host, s.port);
  server.on('error', (err: Error) => log.error({ err: { message: err.message } }, 'DICOM listener failed'));
  log.info({ host: s.host, port, aet: s.aet, tls: Boolean(s.tls) }, 'DICOM service listening');

  return {
    port,
    async close(graceMs = 5000): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const until = Date.now() + graceMs;
      while ([...live].some((c) => c.busy) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      for (const c of live) c.drop();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
