// A CommonJS webpack bundle: only its default export exists at run time (no named ESM exports).
import dimse from 'dcmjs-dimse';
import { silenceLibraryLogs } from '../../shared/dimse-library-logs.js';

/**
 * The receiver's one door to dcmjs-dimse's SCP side: its classes, with the library's console
 * logging silenced on load (it prints associations and, on warnings, values — a patient's).
 */
silenceLibraryLogs();

export const { Scp, Dataset } = dimse;
export const { CEchoResponse, CFindResponse, CMoveResponse, CGetResponse } = dimse.responses;
export const { PresentationContextResult, SopClass, TransferSyntax, RejectResult, RejectSource, RejectReason, AbortSource, AbortReason } = dimse.constants;

type ScpInstance = InstanceType<typeof Scp>;
export type Association = Parameters<ScpInstance['associationRequested']>[0];
export type FindRequest = Parameters<ScpInstance['cFindRequest']>[0];
export type EchoRequest = Parameters<ScpInstance['cEchoRequest']>[0];
export type MoveRequest = Parameters<ScpInstance['cMoveRequest']>[0];
export type GetRequest = Parameters<ScpInstance['cGetRequest']>[0];
export type CancelRequest = Parameters<ScpInstance['cCancelRequest']>[0];
export type FindResponse = InstanceType<typeof CFindResponse>;

/** C-FIND SOP classes this service answers (Query/Retrieve information models, FIND). */
export const STUDY_ROOT_FIND = SopClass.StudyRootQueryRetrieveInformationModelFind;
/** Not among the library's constants (PS3.4 C.6.1.3). */
export const PATIENT_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.1.1';

/**
 * An answer identifier encoded by this service (identifier-writer.ts) rather than by dcmjs, whose
 * writer always encodes text as UTF-8 whatever SpecificCharacterSet says. The library sends what
 * getDenaturalizedDataset returns; the transfer syntax is the context's, so nothing is transcoded.
 */
export class EncodedDataset extends Dataset {
  constructor(private readonly encoded: Buffer, transferSyntaxUid: string) {
    super({}, transferSyntaxUid);
  }

  override getDenaturalizedDataset(): Buffer {
    return this.encoded;
  }
}
