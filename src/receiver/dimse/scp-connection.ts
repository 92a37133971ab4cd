import type { Socket } from 'node:net';
import type { Logger } from '../../shared/logger.js';
import { safeError } from '../store/db.js';
import type { DicomClientStore } from '../store/dicom-client-store.js';
import { admit, negotiate, OVER_CAPACITY, stillAdmitted, type Admission } from './association-policy.js';
import type { FindCaller } from './find-audit.js';
import { runFind, type FindDeps } from './find-service.js';
import { errorComment, STATUS } from './find-status.js';
import { writeIdentifier, type AnswerElement } from './identifier-writer.js';
import type { RawMessages } from './pdu-guard.js';
import { peerAddress } from './peer-address.js';
import {
  AbortReason, AbortSource, CEchoResponse, CFindResponse, CGetResponse, CMoveResponse, EncodedDataset, PATIENT_ROOT_FIND, Scp, STUDY_ROOT_FIND, TransferSyntax,
  type Association, type CancelRequest, type EchoRequest, type FindRequest, type GetRequest, type MoveRequest,
} from './scp-library.js';

/** One association on the receiver's DICOM service: dcmjs-dimse's SCP side, answering from the index. */

export interface ScpSettings {
  aet: string;
  associationTimeoutMs: number;
  idleTimeoutMs: number;
  /** Our receive limit (A-ASSOCIATE-AC); also what we send at most when the peer says "unlimited". */
  maxPduBytes: number;
}

export interface ScpDeps {
  find: FindDeps;
  clients: DicomClientStore;
  log: Logger;
  settings: ScpSettings;
  /**
   * Takes one of the service's association slots (false: over the cap, answered A-ASSOCIATE-RJ
   * transient "local limit exceeded"). Asked once the A-ASSOCIATE-RQ has come: a socket that
   * never sends one holds no slot.
   */
  claimSlot(): boolean;
  /** The connection has asked for its association (accepted or not): it is no longer pending. */
  requested(): void;
  messages: RawMessages;
}

const C_FIND_RQ = 0x0020;
/** C-FINDs one association may have waiting: DIMSE is one operation at a time (no asynchronous operations negotiated). */
const MAX_QUEUED = 4;
/**
 * dcmjs stops reading an identifier at its first element: the identifier is decoded from its raw
 * bytes instead (pdu-guard.ts), in the character set it declares, and a wrong VR (which makes
 * dcmjs throw, dropping the association) is answered A900 like any other bad identifier.
 */
const SKIP_DATASET = { untilTag: '00000000', stopOnGreaterTag: true };
const RETRIEVE_REFUSED = "this index retrieves nothing: use RetrieveAETitle's PACS";

export class IndexScp extends Scp {
  private caller: FindCaller | null = null;
  private decided = false;
  private closed = false;
  private queued = 0;
  private running: Promise<void> = Promise.resolve();
  /** Message ids of the C-FINDs running or waiting, and those of them the client cancelled. */
  private readonly finds = new Set<number>();
  private readonly cancels = new Set<number>();

  constructor(private readonly sock: Socket, private readonly deps: ScpDeps) {
    const s = deps.settings;
    super(sock, { connectTimeout: s.idleTimeoutMs, associationTimeout: s.associationTimeoutMs, pduTimeout: s.idleTimeoutMs, datasetReadOptions: SKIP_DATASET });
    // As dcmjs-dimse's own Server does for a socket it accepted (a server socket emits no 'connect'),
    // and the start of the association timeout, which the library would otherwise never reach.
    Object.assign(this, { connected: true, connectedTime: Date.now() });
    this.on('networkError', () => this.drop());
    this.on('close', () => {
      this.closed = true;
    });
  }

  /** A C-FIND is being answered (shutdown waits for it). */
  get busy(): boolean {
    return this.queued > 0;
  }

  /** Ends the association at once (A-ABORT from the service provider), as on shutdown or a protocol violation. */
  drop(): void {
    if (!this.closed && this.decided) this.sendAbort(AbortSource.ServiceProvider, AbortReason.NotSpecified);
    this.closed = true;
    this.sock.destroy();
  }

  override associationRequested(association: Association): void {
    if (this.decided) return this.drop();
    this.decided = true;
    void this.decide(association).catch(() => this.drop());
  }

  private async decide(association: Association): Promise<void> {
    const calling = association.getCallingAeTitle();
    const called = association.getCalledAeTitle();
    const address = peerAddress(this.sock.remoteAddress);
    this.deps.requested();
    const admission: Admission = this.deps.claimSlot() ? await admit(this.deps.clients, this.deps.settings.aet, calling, called, address) : OVER_CAPACITY;
    if (this.closed) return;
    if ('rejection' in admission) {
      const r = admission.rejection;
      this.deps.log.warn({ calling_aet: calling, called_aet: called, address, result: r.result, source: r.source, reason: r.reason, why: r.why }, 'association rejected');
      this.sendAssociationReject(r.result, r.source, r.reason);
      this.closeSoon();
      return;
    }
    this.caller = { tokenName: admission.client.token_name, callingAet: calling, calledAet: called, address };
    negotiate(association);
    const peerMax = association.getMaxPduLength();
    if (peerMax === 0 || peerMax > this.deps.settings.maxPduBytes) association.setMaxPduLength(this.deps.settings.maxPduBytes);
    this.deps.log.info({ calling_aet: calling, address, token: admission.client.token_name }, 'association accepted');
    this.sendAssociationAccept();
  }

  override cEchoRequest(request: EchoRequest, callback: (response: InstanceType<typeof CEchoResponse>) => void): void {
    if (!this.caller) return this.drop();
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(STATUS.success);
    callback(response);
  }

  override cFindRequest(request: FindRequest): void {
    const model = request.getAffectedSopClassUid();
    if (!this.caller || (model !== STUDY_ROOT_FIND && model !== PATIENT_ROOT_FIND) || this.queued >= MAX_QUEUED) return this.drop();
    const id = request.getMessageId();
    this.queued += 1;
    this.finds.add(id);
    // Never a rejected chain: a failure ends this association (logged), not the process.
    this.running = this.running
      .then(() => this.find(request, model === PATIENT_ROOT_FIND ? 'PatientRoot' : 'StudyRoot'))
      .catch((err: unknown) => {
        this.deps.log.error({ err: safeError(err) }, 'C-FIND aborted');
        this.drop();
      })
      .finally(() => {
        this.queued -= 1;
        this.finds.delete(id);
        this.cancels.delete(id);
      });
  }

  private async find(request: FindRequest, model: 'StudyRoot' | 'PatientRoot'): Promise<void> {
    const id = request.getMessageId();
    const raw = this.deps.messages.take(C_FIND_RQ, id);
    const syntax = request.getDataset()?.getTransferSyntaxUid() ?? TransferSyntax.ImplicitVRLittleEndian;
    const explicit = syntax === TransferSyntax.ExplicitVRLittleEndian;
    const sink = {
      answer: (elements: AnswerElement[], charset: Parameters<typeof writeIdentifier>[1]) => this.sendPending(request, elements, charset, syntax, explicit),
      cancelled: () => this.cancels.has(id),
    };
    const caller = this.caller!;
    if (!(await stillAdmitted(this.deps.clients, caller.callingAet, caller.address).catch(() => false))) {
      // Revoked (or removed) since the association began, or the registry unreadable: refused, then ended.
      this.deps.log.warn({ calling_aet: caller.callingAet, address: caller.address }, 'C-FIND refused: the AE title no longer acts for an active token');
      const refused = this.response(request);
      refused.setStatus(STATUS.notAuthorized);
      refused.setErrorComment(errorComment('this AE title is no longer allowed to query'));
      this.sendResponse(request, refused);
      this.closeSoon();
      return;
    }
    const end = await runFind(this.deps.find, caller, model, raw?.dataset ?? null, explicit, sink);
    if (this.closed) return;
    const response = this.response(request);
    response.setStatus(end.status);
    if (end.comment) response.setErrorComment(errorComment(end.comment));
    this.sendResponse(request, response);
  }

  private response(request: FindRequest): InstanceType<typeof CFindResponse> {
    const response = CFindResponse.fromRequest(request);
    // The library's response names Study Root whatever was asked.
    response.setAffectedSopClassUid(request.getAffectedSopClassUid());
    return response;
  }

  /** Sends one answer and waits while the socket is backed up, and one turn of the event loop (a C-CANCEL gets read). */
  private async sendPending(request: FindRequest, elements: AnswerElement[], charset: Parameters<typeof writeIdentifier>[1], syntax: string, explicit: boolean): Promise<boolean> {
    if (this.closed) return false;
    const response = this.response(request);
    response.setStatus(STATUS.pending);
    response.setDataset(new EncodedDataset(writeIdentifier(elements, charset, explicit), syntax));
    this.sendResponse(request, response);
    if (this.sock.writableNeedDrain) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.sock.off('drain', done);
          this.sock.off('close', done);
          resolve();
        };
        this.sock.on('drain', done);
        this.sock.on('close', done);
      });
    }
    await new Promise((resolve) => setImmediate(resolve));
    return !this.closed;
  }

  /** Only a C-FIND still running or waiting can be cancelled (a flood of stray C-CANCELs keeps nothing). */
  override cCancelRequest(request: CancelRequest): void {
    const id = request.getMessageIdBeingRespondedTo();
    if (this.finds.has(id)) this.cancels.add(id);
  }

  override cMoveRequest(request: MoveRequest, callback: (responses: InstanceType<typeof CMoveResponse>[]) => void): void {
    if (!this.caller) return this.drop();
    const response = CMoveResponse.fromRequest(request);
    response.setAffectedSopClassUid(request.getAffectedSopClassUid());
    response.setStatus(STATUS.sopClassNotSupported);
    response.setErrorComment(errorComment(RETRIEVE_REFUSED));
    callback([response]);
  }

  override cGetRequest(request: GetRequest, callback: (responses: InstanceType<typeof CGetResponse>[]) => void): void {
    if (!this.caller) return this.drop();
    const response = CGetResponse.fromRequest(request);
    response.setAffectedSopClassUid(request.getAffectedSopClassUid());
    response.setStatus(STATUS.sopClassNotSupported);
    response.setErrorComment(errorComment(RETRIEVE_REFUSED));
    callback([response]);
  }

  override associationReleaseRequested(): void {
    // A query still running stops at its next answer and sends no final response after the release.
    this.closed = true;
    this.sendAssociationReleaseResponse();
    this.closeSoon();
  }

  /** After A-ASSOCIATE-RJ or A-RELEASE-RP the peer closes; one that does not is closed for it. */
  private closeSoon(): void {
    this.sock.end();
    setTimeout(() => this.sock.destroy(), 2000).unref();
  }

  override abort(): void {
    this.closed = true;
    this.sock.destroy();
  }
}
