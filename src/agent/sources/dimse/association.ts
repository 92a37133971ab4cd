import type { IndexerError } from '../../../shared/errors.js';
import {
  callerAborted, classifyNetworkError, DimseError, describeRejection, rejectionCode, tlsDetail, type AssociationPhase as Phase, type AssociationRejection, type DimseErrorCode,
} from './dimse-errors.js';
import { CFindRequest, Client, networkOf, Status, type DimseRequest, type DimseResponse } from './dimse-library.js';
import { speaksTls } from './tls-probe.js';

/**
 * One association, start to close, around one request (C-FIND or C-ECHO) — the part of
 * dcmjs-dimse that cannot be trusted to end by itself:
 * - an A-ABORT from the server is not forwarded by its Client, and the socket stays open until
 *   the library's idle timer (minutes): the Network's own `abort` event is listened to, and every
 *   run has its own deadline and the caller's signal, on which the association is aborted;
 * - after its own errors it only `end()`s the socket, which may never close (the peer keeps its
 *   half open): here the socket is ended after the A-ABORT and destroyed if the peer has not
 *   closed its side within a second;
 * - it ends a request on the first non-FF00 status, so an FF01 ("pending, optional keys not
 *   supported") would end a C-FIND early: the request's done event is held back for FF01.
 * The promise settles only after the connection is closed, so a queue of runs never overlaps.
 */
export interface Endpoint {
  host: string;
  port: number;
  calledAet: string;
  callingAet: string;
  tls: { cert?: Buffer; key?: Buffer; ca?: Buffer } | undefined;
  connectTimeoutMs: number;
}

export interface Exchange {
  service: 'C-FIND' | 'C-ECHO';
  request: DimseRequest;
  /** Each pending response; `cancel()` sends a C-CANCEL for the request. */
  onPending?(response: DimseResponse, cancel: () => void): void;
}

export interface RunLimits {
  deadlineMs: number;
  signal: AbortSignal | undefined;
}

const PENDING = new Set([Status.Pending, 0xff01]);
/** How long the peer may take to close its side of a torn-down connection before it is destroyed. */
const PEER_CLOSE_MS = 1000;
/** How long a torn-down connection may take to report closed before the run settles anyway. */
const CLOSE_GRACE_MS = 2000;

export function runAssociation(endpoint: Endpoint, exchange: Exchange, limits: RunLimits): Promise<DimseResponse> {
  return new AssociationRun(endpoint, exchange, limits).start();
}

class AssociationRun {
  private readonly client = new Client();
  private phase: Phase = 'connecting';
  private pendingCount = 0;
  private lastStatus = -1;
  private final: DimseResponse | undefined;
  private failure: IndexerError | undefined;
  private peerAborted = false;
  private tornDown = false;
  private settled = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly cleanups: (() => void)[] = [];
  private settle: (outcome: DimseResponse | Error) => void = () => undefined;

  constructor(
    private readonly ep: Endpoint,
    private readonly exchange: Exchange,
    private readonly limits: RunLimits,
  ) {}

  start(): Promise<DimseResponse> {
    return new Promise((resolve, reject) => {
      this.settle = (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome));
      this.watchRequest();
      this.watchClient();
      this.client.addRequest(this.exchange.request);
      // The library's own timers (idle socket, association, PDU) must never be the first to fire.
      const idle = this.limits.deadlineMs + 60_000;
      const tls = this.ep.tls ? { ...this.ep.tls, rejectUnauthorized: true } : undefined;
      try {
        this.client.send(this.ep.host, this.ep.port, this.ep.callingAet, this.ep.calledAet, {
          connectTimeout: idle, associationTimeout: idle, pduTimeout: idle, ...(tls ? { securityOptions: tls } : {}),
        });
      } catch (cause) {
        // Node refuses unusable TLS material (not PEM, a key that does not fit) before connecting.
        this.settled = true;
        const what = tls ? `the TLS options are not usable: ${tlsDetail(cause)}` : 'the connection could not be started';
        reject(new DimseError(tls ? 'TLS_FAILED' : 'PROTOCOL_ERROR', `${this.where()}: ${what}`, { cause }));
        return;
      }
      // Small PDUs both ways: with Nagle's algorithm on, each exchange waits out a delayed ACK (~40 ms).
      networkOf(this.client)?.socket?.setNoDelay(true);
      networkOf(this.client)?.on('abort', () => {
        this.peerAborted = true;
        this.fail('PEER_ABORTED', `the server aborted the association (A-ABORT) while ${this.doing()}`);
      });
      this.arm();
    });
  }

  private where(): string {
    return `${this.exchange.service} to ${this.ep.calledAet}@${this.ep.host}:${this.ep.port} (calling AE ${this.ep.callingAet})`;
  }

  private doing(): string {
    if (this.phase === 'connecting') return this.ep.tls ? 'connecting (TLS)' : 'connecting';
    if (this.phase === 'associating') return 'waiting for the association answer';
    if (this.phase === 'exchanging') return `waiting for the ${this.exchange.service} answers (${this.pendingCount} received)`;
    return 'releasing the association';
  }

  private watchRequest(): void {
    const request = this.exchange.request as unknown as { raiseResponseEvent(r: DimseResponse): void; raiseDoneEvent(): void };
    const respond = request.raiseResponseEvent.bind(request);
    const done = request.raiseDoneEvent.bind(request);
    request.raiseResponseEvent = (response) => {
      this.onResponse(response);
      respond(response);
    };
    request.raiseDoneEvent = () => {
      if (!PENDING.has(this.lastStatus)) done();
    };
  }

  private onResponse(response: DimseResponse): void {
    this.lastStatus = response.getStatus();
    if (!PENDING.has(this.lastStatus)) {
      this.final = response;
      this.phase = 'finishing';
      return;
    }
    this.pendingCount += 1;
    if (this.failure || !this.exchange.onPending) return;
    try {
      this.exchange.onPending(response, () => this.cancel());
    } catch (cause) {
      this.fail('PROTOCOL_ERROR', `an answer could not be read while ${this.doing()}`, { cause });
    }
  }

  private cancel(): void {
    try {
      this.client.cancel(this.exchange.request as InstanceType<typeof CFindRequest>);
    } catch {
      // The connection is already gone: its close settles the run.
    }
  }

  private watchClient(): void {
    const c = this.client;
    c.on('connected', () => {
      if (this.phase === 'connecting') this.phase = 'associating';
    });
    c.on('associationAccepted', (association: { getAcceptedPresentationContextFromRequest(r: unknown): unknown }) => {
      this.phase = 'exchanging';
      if (!association.getAcceptedPresentationContextFromRequest(this.exchange.request)) {
        this.fail('SERVICE_NOT_ACCEPTED', `the server accepted the association but not the ${this.exchange.service} presentation context`);
      }
    });
    c.on('associationRejected', (rj: AssociationRejection) => {
      this.fail(rejectionCode(rj), `the server rejected the association: ${describeRejection(rj)}`, { rejection: rj });
    });
    c.on('networkError', (err: Error) => this.onNetworkError(err));
    c.on('closed', () => this.onClosed());
  }

  private arm(): void {
    this.timers.push(setTimeout(() => {
      if (this.phase === 'connecting') this.fail('CONNECT_TIMEOUT', `no TCP connection within ${this.ep.connectTimeoutMs} ms`);
    }, this.ep.connectTimeoutMs));
    this.timers.push(setTimeout(() => {
      this.fail('DEADLINE_EXCEEDED', `no final status within the deadline of ${this.limits.deadlineMs} ms, while ${this.doing()}; association aborted`);
    }, this.limits.deadlineMs));
    const signal = this.limits.signal;
    if (!signal) return;
    const onAbort = (): void => this.failWith(callerAborted(signal, this.where()));
    signal.addEventListener('abort', onAbort, { once: true });
    this.cleanups.push(() => signal.removeEventListener('abort', onAbort));
  }

  private onNetworkError(err: Error): void {
    const [code, what] = classifyNetworkError(err.message, this.phase, this.ep.tls !== undefined);
    this.fail(code, what);
  }

  private fail(code: DimseErrorCode, what: string, details: ConstructorParameters<typeof DimseError>[2] = {}): void {
    this.failWith(new DimseError(code, `${this.where()}: ${what}`, details));
  }

  private failWith(err: IndexerError): void {
    if (this.settled) return;
    // Once the final status is in, the answers are complete: a hung release is torn down, not failed.
    if (!this.failure && !this.final) this.failure = err;
    this.teardown();
  }

  /** A-ABORT (when an association stands and the peer did not abort it), then close the socket. */
  private teardown(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    // Deferred: the library may be in the middle of its own handler for the same event.
    setImmediate(() => {
      if (this.settled) return;
      const socket = networkOf(this.client)?.socket;
      this.timers.push(setTimeout(() => this.finish(), CLOSE_GRACE_MS));
      if (!socket || socket.destroyed) return;
      if (this.phase === 'connecting') {
        socket.destroy();
        return;
      }
      if ((this.phase === 'exchanging' || this.phase === 'finishing') && !this.peerAborted) this.sendAbort();
      // Closed when the peer closes its side too (so its association is gone before the next
      // one starts), or destroyed when it keeps the socket open, as some do after an A-ABORT.
      socket.end();
      this.timers.push(setTimeout(() => socket.destroy(), PEER_CLOSE_MS));
    });
  }

  private sendAbort(): void {
    try {
      this.client.abort();
    } catch {
      // No association object: nothing to abort.
    }
  }

  private onClosed(): void {
    if (this.settled) return;
    if (!this.failure && !this.final) this.failure = this.closedEarly();
    void this.finish();
  }

  private closedEarly(): DimseError {
    if (this.phase === 'associating' && this.ep.tls) {
      return new DimseError('TLS_FAILED', `${this.where()}: the connection closed during the TLS handshake or before the association answer`);
    }
    if (this.phase === 'associating') {
      return new DimseError('CLOSED_BEFORE_ASSOCIATION', `${this.where()}: the server closed the connection without answering the association request`);
    }
    return new DimseError('CONNECTION_LOST', `${this.where()}: the connection closed while ${this.doing()}`);
  }

  private async finish(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    for (const t of this.timers) clearTimeout(t);
    for (const c of this.cleanups) c();
    let failure = this.failure;
    if (failure instanceof DimseError && failure.dimseCode === 'CLOSED_BEFORE_ASSOCIATION' && (await speaksTls(this.ep.host, this.ep.port, this.ep.connectTimeoutMs))) {
      failure = new DimseError('TLS_REQUIRED', `${this.where()}: the port requires TLS (it hung up on plain DICOM and answers a TLS handshake)`);
    }
    this.settle(failure ?? this.final!);
  }
}
