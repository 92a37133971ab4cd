import { isIP } from 'node:net';
import type { DicomClient, DicomClientStore } from '../store/dicom-client-store.js';
import { PATIENT_ROOT_FIND, PresentationContextResult, RejectReason, RejectResult, RejectSource, SopClass, STUDY_ROOT_FIND, TransferSyntax, type Association } from './scp-library.js';

/**
 * Who may associate, and what is negotiated: the called AE title must be the service's own; the
 * calling AE title must be listed (dicom-clients), act for an active read token and, when the
 * listing names one, come from its address. Verification and the two FIND models are accepted
 * (Explicit VR Little Endian preferred, Implicit VR Little Endian otherwise); everything else —
 * C-MOVE, C-GET, storage — is refused as an abstract syntax not supported: this index holds no images.
 */

export interface Rejection {
  result: number;
  source: number;
  reason: number;
  /** For the log: why (never a value of the client's beyond AE titles and address). */
  why: string;
}

export type Admission = { client: DicomClient } | { rejection: Rejection };

const reject = (result: number, source: number, reason: number, why: string): Admission => ({ rejection: { result, source, reason, why } });

export const OVER_CAPACITY = reject(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.LocalLimitExceeded, 'too many associations');

/** An AE title's repertoire (PS3.5 §6.2): a title outside it is no one's (and never reaches the registry). */
const AE_TITLE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

export async function admit(clients: DicomClientStore, ownAet: string, callingAet: string, calledAet: string, address: string): Promise<Admission> {
  if (calledAet !== ownAet) return reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized, 'called AE title is not this service');
  if (!AE_TITLE.test(callingAet)) return reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized, 'calling AE title not recognised');
  let client: DicomClient | null;
  try {
    client = await clients.find(callingAet);
  } catch {
    // The registry cannot be read now: a transient refusal, the workstation may retry.
    return reject(RejectResult.Transient, RejectSource.ServiceUser, RejectReason.NoReasonGiven, 'registry unavailable');
  }
  // A revoked token's AE title, or one from another address, is refused like an unknown one.
  const hostOk = client?.host == null || (isIP(client.host) !== 0 && client.host === address);
  if (!client || !client.token_active || !hostOk) {
    return reject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized, 'calling AE title not recognised');
  }
  return { client };
}

/**
 * Whether the association's AE title still acts for an active token, asked before each C-FIND:
 * a token revoked (or an AE title removed) ends the associations already open, not only new ones.
 */
export async function stillAdmitted(clients: DicomClientStore, callingAet: string, address: string): Promise<boolean> {
  const client = await clients.find(callingAet);
  return Boolean(client?.token_active) && (client!.host == null || client!.host === address);
}

const ACCEPTED = new Set([SopClass.Verification, STUDY_ROOT_FIND, PATIENT_ROOT_FIND]);
const SYNTAXES = [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian];

/** Sets every proposed context's result. */
export function negotiate(association: Association): void {
  for (const { id } of association.getPresentationContexts()) {
    const context = association.getPresentationContext(id);
    if (!ACCEPTED.has(context.getAbstractSyntaxUid())) {
      context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
      continue;
    }
    const offered = context.getTransferSyntaxUids();
    const syntax = SYNTAXES.find((s) => offered.includes(s));
    if (syntax) context.setResult(PresentationContextResult.Accept, syntax);
    else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
  }
}
