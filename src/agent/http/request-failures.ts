import { DeliveryError, type IndexerError } from '../../shared/errors.js';
import { authFailure, permanentFailure, tooLargeFailure, type UrlSetting } from '../delivery/http-failure.js';

/**
 * What went wrong with one request, as requestWithRetry sees it. The transport decides what is
 * retried; the caller decides what the failure means to the operator (a receiver and Orthanc
 * belong to different error families, with different hints and exit codes).
 */
export type RequestFailure =
  /** 401 or 403: credentials refused; never retried. */
  | { kind: 'refused'; status: 401 | 403; text: string }
  /** The answer grew past the dispatcher's cap (`cap` bytes); never retried. */
  | { kind: 'too-large'; cap: number; cause: unknown }
  /** No retry can help (unknown host, TLS mismatch, not HTTP, unusable URL); `reason` says which. */
  | { kind: 'permanent'; reason: string; cause: unknown }
  /**
   * The last attempt still failed: an outage (refused, reset, a timeout) or a 429/5xx (`status`).
   * `last` describes the last failure without any body.
   */
  | { kind: 'unavailable'; attempts: number; last: string; status?: number; timedOut: boolean; cause: unknown };

export interface FailedRequest {
  method: string;
  url: string;
}

/** Turns a failure into the error the caller throws; must not print a body beyond what is safe. */
export type FailureMapping = (failure: RequestFailure, request: FailedRequest) => IndexerError;

const DEFAULT_UNAVAILABLE_HINT = 'nothing was acknowledged: the next run resends from the same position';

/** The receiver's meaning of each failure: the delivery (RECEIVER_*) family. */
export function receiverFailures(setting: UrlSetting = 'url', unavailableHint = DEFAULT_UNAVAILABLE_HINT): FailureMapping {
  return (failure, { method, url }) => {
    switch (failure.kind) {
      case 'refused':
        return authFailure(failure.status, failure.text);
      case 'too-large':
        return tooLargeFailure(method, url, failure.cap, failure.cause);
      case 'permanent':
        return permanentFailure(url, failure.reason, setting, failure.cause);
      case 'unavailable':
        return new DeliveryError('RECEIVER_UNAVAILABLE', `receiver ${new URL(url).origin} unavailable after ${failure.attempts} attempts (last: ${failure.last})`, {
          cause: failure.cause, status: failure.status, hint: unavailableHint,
        });
    }
  };
}
