import { createServer, type Socket } from 'node:net';
import dimse from 'dcmjs-dimse';

/**
 * A DICOM SCP that behaves as told, built on dcmjs-dimse's own SCP side (a real third-party
 * implementation), for behaviours no test PACS can be configured into: a given A-ASSOCIATE-RJ,
 * a refused presentation context, FF01 pendings, a failure status after answers, an A-ABORT
 * that leaves the socket open, answers that never end, a release never answered, C-CANCEL
 * honoured. Binds 127.0.0.1; counts associations, the most open at once, and cancels seen.
 */
export interface ScpScript {
  /** Default: accept Verification and Study Root C-FIND. */
  association?: 'accept' | 'refuse-find' | { reject: [result: number, source: number, reason: number] };
  /** C-FIND answer datasets, sent one by one `delayMs` apart with `pendingStatus` (default FF00). */
  answers?: Record<string, unknown>[];
  /** Answers computed from each request's matching keys instead (a small archive); `answers` is then unused. */
  respond?: (keys: Record<string, unknown>) => Record<string, unknown>[];
  pendingStatus?: number;
  delayMs?: number;
  /** The final C-FIND status; null: none (the answers just stop). Default 0x0000. */
  final?: number | null;
  /** After the answers, send A-ABORT and keep the socket open instead of a final status. */
  abortAfterAnswers?: boolean;
  /** After the answers, drop the TCP connection (no final status, no A-ABORT). */
  dropAfterAnswers?: boolean;
  /** Do not answer the A-RELEASE-RQ. */
  ignoreRelease?: boolean;
  /** C-ECHO status. Default 0x0000. */
  echoStatus?: number;
}

export interface ScriptedScp {
  port: number;
  associations: number;
  maxOpen: number;
  cancels: number;
  stop(): Promise<void>;
}

const { Scp, Dataset } = dimse;
const { CEchoResponse, CFindResponse } = dimse.responses;
const { PresentationContextResult, SopClass, TransferSyntax } = dimse.constants;

type Association = Parameters<InstanceType<typeof Scp>['associationRequested']>[0];
type FindRequest = Parameters<InstanceType<typeof Scp>['cFindRequest']>[0];

class ScriptedScpConnection extends Scp {
  private cancelled = false;

  constructor(private readonly socket: Socket, private readonly script: ScpScript, private readonly stats: ScriptedScp) {
    super(socket);
  }

  override associationRequested(association: Association): void {
    this.stats.associations += 1;
    const plan = this.script.association ?? 'accept';
    if (typeof plan === 'object') {
      this.sendAssociationReject(...plan.reject);
      return;
    }
    for (const { id } of association.getPresentationContexts()) {
      const context = association.getPresentationContext(id);
      const uid = context.getAbstractSyntaxUid();
      const wanted = uid === SopClass.Verification || (uid === SopClass.StudyRootQueryRetrieveInformationModelFind && plan === 'accept');
      const syntax = context.getTransferSyntaxUids().find((t) => t === TransferSyntax.ImplicitVRLittleEndian || t === TransferSyntax.ExplicitVRLittleEndian);
      if (wanted && syntax) context.setResult(PresentationContextResult.Accept, syntax);
      else context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
    }
    this.sendAssociationAccept();
  }

  override cEchoRequest(request: Parameters<InstanceType<typeof Scp>['cEchoRequest']>[0], callback: (r: InstanceType<typeof CEchoResponse>) => void): void {
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(this.script.echoStatus ?? 0);
    callback(response);
  }

  // The library's callback may be called once only; streamed answers go out with sendResponse.
  override cFindRequest(request: FindRequest): void {
    const keys = (request.getDataset()?.getElements() ?? {}) as Record<string, unknown>;
    const answers = [...(this.script.respond ? this.script.respond(keys) : this.script.answers ?? [])];
    const next = (): void => {
      const elements = answers.shift();
      if (elements === undefined || this.cancelled) {
        this.finish(request);
        return;
      }
      const pending = CFindResponse.fromRequest(request);
      pending.setDataset(new Dataset(elements));
      pending.setStatus(this.script.pendingStatus ?? 0xff00);
      this.sendResponse(request, pending);
      if (this.script.delayMs) setTimeout(next, this.script.delayMs);
      else setImmediate(next);
    };
    next();
  }

  private finish(request: FindRequest): void {
    const status = this.cancelled ? 0xfe00 : this.script.abortAfterAnswers ? null : this.script.final === undefined ? 0 : this.script.final;
    if (this.script.dropAfterAnswers && !this.cancelled) {
      this.socket.destroy();
      return;
    }
    if (this.script.abortAfterAnswers && !this.cancelled) this.sendAbort(0, 0);
    if (status === null) return;
    const response = CFindResponse.fromRequest(request);
    response.setStatus(status);
    this.sendResponse(request, response);
  }

  override cCancelRequest(): void {
    this.stats.cancels += 1;
    this.cancelled = true;
  }

  override associationReleaseRequested(): void {
    if (!this.script.ignoreRelease) this.sendAssociationReleaseResponse();
  }

  override abort(): void {
    // The client aborted: the socket closes from its side.
  }
}

export function startScriptedScp(script: ScpScript): Promise<ScriptedScp> {
  const sockets = new Set<Socket>();
  const stats: ScriptedScp = {
    port: 0, associations: 0, maxOpen: 0, cancels: 0,
    stop: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  const server = createServer((socket) => {
    sockets.add(socket);
    stats.maxOpen = Math.max(stats.maxOpen, sockets.size);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const connection = new ScriptedScpConnection(socket, script, stats);
    // As dcmjs-dimse's own Server does for a socket it accepted.
    (connection as unknown as { connected: boolean }).connected = true;
    connection.on('networkError', () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      stats.port = (server.address() as { port: number }).port;
      resolve(stats);
    });
  });
}

