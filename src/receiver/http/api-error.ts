import { IndexerError, type ErrorCode } from '../../shared/errors.js';

function codeFor(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'RECEIVER_AUTH';
  if (status === 429 || status >= 500) return 'RECEIVER_UNAVAILABLE';
  return 'INVALID_INPUT';
}

/**
 * An error answered with a specific HTTP status and a stable `error` string in the body.
 * Messages are sent to the client and logged: never patient data, never internals.
 */
export class ApiError extends IndexerError {
  readonly status: number;
  readonly error: string;
  /** Seconds, sent as Retry-After (429, 503). */
  readonly retryAfter: number | undefined;

  constructor(status: number, error: string, message: string, retryAfter?: number) {
    super(codeFor(status), message);
    this.status = status;
    this.error = error;
    this.retryAfter = retryAfter;
  }
}

export const unauthorized = (message = 'missing or unknown key'): ApiError => new ApiError(401, 'unauthorized', message);
export const forbidden = (message: string): ApiError => new ApiError(403, 'forbidden', message);
export const centerDisabled = (code: string): ApiError => new ApiError(403, 'center_disabled', `centre ${code} is disabled`);
export const badRequest = (message: string): ApiError => new ApiError(400, 'bad_request', message);
export const tooLarge = (message: string): ApiError => new ApiError(413, 'payload_too_large', message);
export const rateLimited = (message: string, retryAfter: number): ApiError => new ApiError(429, 'rate_limited', message, retryAfter);
export const busy = (message: string, retryAfter: number): ApiError => new ApiError(503, 'busy', message, retryAfter);
