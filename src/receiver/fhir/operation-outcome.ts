import { ApiError } from '../http/api-error.js';

/** The OperationOutcome issue codes this server answers with (http://hl7.org/fhir/issue-type). */
export type IssueCode =
  | 'invalid' | 'not-supported' | 'login' | 'forbidden' | 'not-found' | 'deleted' | 'too-costly' | 'transient' | 'exception';

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: { severity: 'error' | 'fatal'; code: IssueCode; diagnostics: string }[];
}

/** An ApiError that also says which FHIR issue code describes it (several share one HTTP status). */
export class FhirError extends ApiError {
  readonly issue: IssueCode;

  constructor(status: number, issue: IssueCode, message: string) {
    super(status, issue.replace('-', '_'), message);
    this.issue = issue;
  }
}

export const invalid = (message: string): FhirError => new FhirError(400, 'invalid', message);
export const notSupported = (message: string, status = 400): FhirError => new FhirError(status, 'not-supported', message);
export const notFound = (message: string): FhirError => new FhirError(404, 'not-found', message);
export const gone = (message: string): FhirError => new FhirError(410, 'deleted', message);

/** The issue code of any other refusal, by its HTTP status (the error mapping gave the status and message). */
function issueForStatus(status: number): IssueCode {
  switch (status) {
    case 401: return 'login';
    case 403: return 'forbidden';
    case 404: return 'not-found';
    case 405: case 406: case 415: return 'not-supported';
    case 410: return 'deleted';
    case 413: return 'too-costly';
    case 429: case 503: return 'transient';
    default: return status >= 500 ? 'exception' : 'invalid';
  }
}

export function issueCodeOf(err: unknown, status: number): IssueCode {
  return err instanceof FhirError && err.status === status ? err.issue : issueForStatus(status);
}

export function operationOutcome(code: IssueCode, diagnostics: string, status: number): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: status >= 500 ? 'fatal' : 'error', code, diagnostics }] };
}
