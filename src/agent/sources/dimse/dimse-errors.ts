import { IndexerError, type ErrorCode } from '../../../shared/errors.js';

/**
 * What went wrong talking DICOM to a PACS, as stable codes (`DimseError.dimseCode`) that the
 * crawl, `indexer check` and tests rely on. Each has one operator hint (what to fix). Messages
 * name the PACS (host, port, AE titles) and the phase, never a patient value: nothing from an
 * answer's dataset is ever put into one.
 */
export type DimseErrorCode =
  /** Nothing listens on the port (TCP RST). */
  | 'CONNECTION_REFUSED'
  /** The host name does not resolve, or no route to it. */
  | 'HOST_UNREACHABLE'
  /** TCP connect did not complete within connectTimeoutMs. */
  | 'CONNECT_TIMEOUT'
  /** The port speaks TLS and the client was configured for plain DICOM. */
  | 'TLS_REQUIRED'
  /** The TLS handshake failed (certificate, CA, key, or the port does not speak TLS). */
  | 'TLS_FAILED'
  /** The server closed the connection without answering the association request. */
  | 'CLOSED_BEFORE_ASSOCIATION'
  /** A-ASSOCIATE-RJ: calling AE title not recognised (the agent is not declared in the PACS). */
  | 'REJECTED_CALLING_AE'
  /** A-ASSOCIATE-RJ: called AE title not recognised (calledAet is wrong). */
  | 'REJECTED_CALLED_AE'
  /** A-ASSOCIATE-RJ, transient: congestion or too many associations. */
  | 'REJECTED_BUSY'
  /** A-ASSOCIATE-RJ for another or no reason. */
  | 'REJECTED'
  /** The association was accepted but not for the service asked (Study Root C-FIND / Verification). */
  | 'SERVICE_NOT_ACCEPTED'
  /** A-ABORT from the server. */
  | 'PEER_ABORTED'
  /** The connection dropped after the association was accepted, before the final status. */
  | 'CONNECTION_LOST'
  /** The server sent something that is not DICOM upper layer protocol. */
  | 'PROTOCOL_ERROR'
  /** The call's own deadline (queryDeadlineMs) passed; the association was aborted. */
  | 'DEADLINE_EXCEEDED'
  /** The caller's AbortSignal fired; the association was aborted. */
  | 'CALLER_ABORTED'
  /** A C-FIND ended with a failure status (statusCode). */
  | 'FIND_FAILED'
  /** A C-ECHO ended with a status other than Success (statusCode). */
  | 'ECHO_FAILED'
  /** The matching keys given to findStudies are not valid DICOM matching values. */
  | 'INVALID_QUERY';

interface CodeInfo {
  /** The project-wide code (exit status of the CLI). */
  base: ErrorCode;
  hint: string;
}

const CODES: Readonly<Record<DimseErrorCode, CodeInfo>> = {
  CONNECTION_REFUSED: { base: 'DB_UNREACHABLE', hint: 'nothing listens on that port: check host and port, and that the PACS DICOM service runs' },
  HOST_UNREACHABLE: { base: 'DB_UNREACHABLE', hint: 'the host name does not resolve or has no route: check host (DNS, VPN, firewall)' },
  CONNECT_TIMEOUT: { base: 'DB_UNREACHABLE', hint: 'no TCP answer in time: a firewall probably drops the packets, or the host is down' },
  TLS_REQUIRED: { base: 'DB_UNREACHABLE', hint: 'the PACS port speaks TLS: set dimse.tls.enabled (and dimse.tls.ca_file, and cert_file and key_file if it asks for a client certificate)' },
  TLS_FAILED: { base: 'DB_UNREACHABLE', hint: 'check the CA (it must sign the PACS certificate, whose name or IP must match host), the client certificate and key, and that the port speaks TLS' },
  CLOSED_BEFORE_ASSOCIATION: { base: 'DB_UNREACHABLE', hint: 'the PACS hung up before answering: it may require TLS on this port, limit the hosts allowed to connect, or be another service' },
  REJECTED_CALLING_AE: { base: 'DB_PRIVILEGES', hint: "declare the agent's calling AE title (with this host's IP) among the PACS's known AEs / modalities" },
  REJECTED_CALLED_AE: { base: 'DB_UNREACHABLE', hint: "dimse.called_aet is not the PACS's AE title: copy it exactly (case and spaces count) from the PACS settings" },
  REJECTED_BUSY: { base: 'DB_UNREACHABLE', hint: 'the PACS is busy (congestion or association limit): retry later, or raise dimse.pause_ms' },
  REJECTED: { base: 'DB_UNREACHABLE', hint: "the PACS refused the association: read the PACS's log for the reason" },
  SERVICE_NOT_ACCEPTED: { base: 'DB_PRIVILEGES', hint: 'the PACS does not offer this service (Study Root C-FIND or C-ECHO) to this calling AE title: enable it in the PACS' },
  PEER_ABORTED: { base: 'DB_PRIVILEGES', hint: "the PACS aborted the association: usually the calling AE title is not allowed to query (declare it in the PACS), else read the PACS's log" },
  CONNECTION_LOST: { base: 'DB_UNREACHABLE', hint: 'the connection dropped during the exchange: check the network and the PACS log; the next pass retries' },
  PROTOCOL_ERROR: { base: 'DB_UNREACHABLE', hint: 'the port answered with something that is not DICOM: check host and port' },
  DEADLINE_EXCEEDED: { base: 'DB_UNREACHABLE', hint: 'the PACS did not finish in time: narrow the query (shorter date window) or raise dimse.query_timeout_ms' },
  CALLER_ABORTED: { base: 'INTERRUPTED', hint: 'the agent was stopped; nothing to fix' },
  FIND_FAILED: { base: 'DB_UNREACHABLE', hint: "the PACS could not run the query (see the status): narrow it, or read the PACS's log" },
  ECHO_FAILED: { base: 'DB_UNREACHABLE', hint: "the PACS answered C-ECHO with a failure: read the PACS's log" },
  INVALID_QUERY: { base: 'INVALID_INPUT', hint: 'a bug in the caller: matching keys must be valid DICOM matching values' },
};

export interface DimseErrorDetails {
  cause?: unknown;
  /** The final DIMSE status, for FIND_FAILED / ECHO_FAILED. */
  statusCode?: number;
  /** The A-ASSOCIATE-RJ fields, for the REJECTED_* codes. */
  rejection?: AssociationRejection;
}

export interface AssociationRejection {
  /** 1 permanent, 2 transient. */
  result: number;
  /** 1 service user, 2 service provider (ACSE), 3 service provider (presentation). */
  source: number;
  reason: number;
}

export class DimseError extends IndexerError {
  readonly dimseCode: DimseErrorCode;
  readonly statusCode: number | undefined;
  readonly rejection: AssociationRejection | undefined;

  constructor(dimseCode: DimseErrorCode, message: string, details: DimseErrorDetails = {}) {
    const info = CODES[dimseCode];
    super(info.base, message, { cause: details.cause, hint: info.hint });
    this.dimseCode = dimseCode;
    this.statusCode = details.statusCode;
    this.rejection = details.rejection;
  }
}

/** The operator hint of a code (the same text as `new DimseError(code, …).hint`). */
export function dimseHint(code: DimseErrorCode): string {
  return CODES[code].hint;
}

/** A DIMSE status as the standard writes it: 0xA700. */
export function hexStatus(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The rejection code for an A-ASSOCIATE-RJ (PS3.8 §9.3.4). */
export function rejectionCode(rj: AssociationRejection): DimseErrorCode {
  if (rj.source === 1 && rj.reason === 3) return 'REJECTED_CALLING_AE';
  if (rj.source === 1 && rj.reason === 7) return 'REJECTED_CALLED_AE';
  if (rj.source === 3 || rj.result === 2) return 'REJECTED_BUSY';
  return 'REJECTED';
}

const REJECTION_TEXT: Partial<Record<DimseErrorCode, string>> = {
  REJECTED_CALLING_AE: 'calling AE title not recognised',
  REJECTED_CALLED_AE: 'called AE title not recognised',
  REJECTED_BUSY: 'transient: congestion or local limit',
};

/** The words for a rejection in a message: the standard's reason and its raw fields. */
export function describeRejection(rj: AssociationRejection): string {
  const code = rejectionCode(rj);
  const words = REJECTION_TEXT[code] ?? (rj.source === 1 && rj.reason === 1 ? 'no reason given' : 'reason not listed');
  return `${words} (result ${rj.result}, source ${rj.source}, reason ${rj.reason})`;
}

/** Where an association stands: TCP connect (and TLS), A-ASSOCIATE answer, the exchange, the release. */
export type AssociationPhase = 'connecting' | 'associating' | 'exchanging' | 'finishing';

/** dcmjs-dimse reports network failures as new Errors whose message embeds Node's error text. */
export function classifyNetworkError(message: string, phase: AssociationPhase, tls: boolean): [DimseErrorCode, string] {
  // Node's text only (the library prefixes the called AE title); OpenSSL's reason without its codes and source path.
  const detail = (message.split('Connection error: ')[1] ?? '')
    .replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):.*$/s, '$1')
    .replace(/\s+/g, ' ').trim().slice(0, 200);
  if (/ECONNREFUSED/.test(message)) return ['CONNECTION_REFUSED', 'connection refused (nothing listens on the port)'];
  if (/ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL/.test(message)) return ['HOST_UNREACHABLE', 'the host cannot be reached (name or route)'];
  if (/ETIMEDOUT/.test(message)) return ['CONNECT_TIMEOUT', 'the TCP connection timed out'];
  const pdu = /Unknown PDU type: (\d+)/.exec(message);
  if (pdu && !tls && (pdu[1] === '21' || pdu[1] === '22')) return ['TLS_REQUIRED', 'the server answered plain DICOM with TLS'];
  if (pdu) return ['PROTOCOL_ERROR', `the server sent a PDU of unknown type ${pdu[1]}`];
  // Never the library's text here: dcmjs quotes the value it could not encode or decode.
  if (/Error reading/.test(message)) return ['PROTOCOL_ERROR', 'a message from the server could not be read'];
  if (/Error sending/.test(message)) return ['PROTOCOL_ERROR', 'a request could not be encoded'];
  if (tls && (phase === 'connecting' || phase === 'associating')) return ['TLS_FAILED', `TLS failed: ${detail || 'handshake error'}`];
  if (phase === 'connecting' || phase === 'associating') return ['CLOSED_BEFORE_ASSOCIATION', `the connection failed before the association answer (${detail || 'reset'})`];
  return ['CONNECTION_LOST', `the connection failed (${detail || 'network error'})`];
}

/** The error for a call stopped by its signal: the signal's own reason when it is an IndexerError. */
export function callerAborted(signal: AbortSignal, where: string, what = 'stopped by the caller; association aborted'): IndexerError {
  if (signal.reason instanceof IndexerError) return signal.reason;
  return new DimseError('CALLER_ABORTED', `${where}: ${what}`, { cause: signal.reason });
}

/** OpenSSL's reason, without its codes: `…:PEM routines::no start line` → `no start line`. */
export function tlsDetail(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split(':').filter(Boolean).pop()?.trim().slice(0, 120) || 'invalid';
}
