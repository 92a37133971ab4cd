/**
 * The DIMSE statuses this service answers (PS3.4 C.4.1.1.4, PS3.7 Annex C) and what each is in
 * the read audit, whose status column speaks HTTP like the other read interfaces.
 */
export const STATUS = {
  success: 0x0000,
  pending: 0xff00,
  /** Matching terminated due to Cancel request: the client's C-CANCEL, or the answer cap (as Orthanc does). */
  cancel: 0xfe00,
  /** Refused: Out of resources — the search is too broad for its time budget, or the index is unavailable. */
  outOfResources: 0xa700,
  /** Identifier does not match SOP class: a level the model lacks, a key with a wrong VR. */
  identifierDoesNotMatch: 0xa900,
  /** Unable to process: a value the matching refuses, a level the index does not hold, a failure. */
  unableToProcess: 0xc000,
  /** Refused: Not authorized (PS3.7 C.5.2) — the AE title's token was revoked during the association. */
  notAuthorized: 0x0124,
  /** Refused: SOP Class not supported — C-MOVE and C-GET: this index retrieves nothing. */
  sopClassNotSupported: 0x0122,
} as const;

/** A C-FIND that ends with a failure status; the comment (ErrorComment, 64 characters) names no value. */
export class FindFailure extends Error {
  constructor(readonly status: number, readonly comment: string, readonly auditStatus = auditStatusOf(status)) {
    super(comment);
  }
}

function auditStatusOf(status: number): number {
  if (status === STATUS.identifierDoesNotMatch || status === STATUS.unableToProcess) return 400;
  if (status === STATUS.outOfResources) return 413;
  return 500;
}

/** ErrorComment is an LO of the command set: 64 ASCII characters at most, cut at a word where it must be. */
export function errorComment(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  if (ascii.length <= 64) return ascii;
  const cut = ascii.slice(0, 61);
  const space = cut.lastIndexOf(' ');
  return `${(space > 40 ? cut.slice(0, space) : cut).replace(/[\s,;:(]+$/, '')}...`;
}

export const hex = (status: number): string => status.toString(16).toUpperCase().padStart(4, '0');
