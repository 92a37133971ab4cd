import { IndexerError } from '../../shared/errors.js';

/**
 * An error answered with a specific HTTP status and a stable `error` string in the body.
 * Messages are sent to the client and logged: never patient data, never internals.
 */
export class ApiError extends IndexerError {
  readonly status: number;
  readonly error: string;

  constructor(status: number, error: string, message: string) {
    super(status === 401 || status === 403 ? 'RECEIVER_AUTH' : 'INVALID_INPUT', message);
    this.status = status;
    this.error = error;
  }
}

export const unauthorized = (message = 'missing or unknown key'): ApiError => new ApiError(401, 'unauthorized', message);
export const forbidden = (message: string): ApiError => new ApiError(403, 'forbidden', message);
export const badRequest = (message: string): ApiError => new ApiError(400, 'bad_request', message);
export const tooLarge = (message: string): ApiError => new ApiError(413, 'payload_too_large', message);
