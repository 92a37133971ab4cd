import { DeliveryError } from '../../shared/errors.js';
import { maskUrlCredentials, redactUrl } from './receiver-url.js';

/**
 * What a failed receiver request means: an outage worth retrying, or something no retry can fix
 * (an unknown host, a certificate that does not fit, a peer that does not speak the protocol, a
 * wrong path). Messages name the URL without its credentials and never carry the answer's body
 * beyond the receiver's short `message`.
 */

/** The configuration key that holds the URL, named in hints. */
export type UrlSetting = 'url' | 'webservice_url';

const CERT_TRUST = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED|CERT_REJECTED|INVALID_CA|CERT_SIGNATURE_FAILURE|CERT_REVOKED|INVALID_PURPOSE)$/;
const CERT_DATE = /^(CERT_HAS_EXPIRED|CERT_NOT_YET_VALID)$/;
const CERT_NAME = /^(ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)$/;
const TLS_PROTOCOL = /^(EPROTO|ERR_SSL_.+|ERR_TLS_.+)$/;
const NOT_HTTP = /^HPE_/;
const BAD_ARGUMENT = /^(ERR_INVALID_URL|UND_ERR_INVALID_ARG|ERR_INVALID_ARG_VALUE)$/;

/** The error codes along err → err.cause (undici and fetch wrap the socket's error). */
function codes(err: unknown): string[] {
  const out: string[] = [];
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth += 1) {
    if (typeof e.code === 'string') out.push(e.code);
    // undici 7 raises HTTPParserError without a code for an answer that is not HTTP.
    else if ((e as { name?: unknown }).name === 'HTTPParserError') out.push('HPE_INVALID_RESPONSE');
  }
  return out;
}

/** Why no retry can help, with the code; undefined for an outage (refused, reset, timeout, EAI_AGAIN). */
export function permanentReason(err: unknown): string | undefined {
  for (const code of codes(err)) {
    if (code === 'ENOTFOUND') return 'host name not found (ENOTFOUND)';
    if (CERT_NAME.test(code)) return `its TLS certificate is not for this host name (${code})`;
    if (CERT_DATE.test(code)) return `its TLS certificate is outside its validity dates (${code})`;
    if (CERT_TRUST.test(code)) return `its TLS certificate is not trusted (${code})`;
    if (TLS_PROTOCOL.test(code)) return `the TLS handshake failed (${code}): is this port really https?`;
    if (NOT_HTTP.test(code)) return `the answer is not HTTP (${code}): does this port need https://, or is it not the receiver?`;
    if (BAD_ARGUMENT.test(code)) return `the URL cannot be used (${code})`;
  }
  return undefined;
}

/** Whether undici cut the answer off at the dispatcher's maxResponseSize. */
export function exceededSize(err: unknown): boolean {
  return codes(err).includes('UND_ERR_RES_EXCEEDED_MAX_SIZE');
}

function hintFor(reason: string, setting: UrlSetting): string {
  if (/not trusted/.test(reason)) return `check ${setting}; a receiver certificate from a private CA needs http.ca_file (verification is never turned off)`;
  if (/validity dates/.test(reason)) return 'the receiver certificate must be renewed (or this machine\'s clock is wrong)';
  return `check ${setting} (host name, port, http:// or https://)`;
}

export function permanentFailure(url: string, reason: string, setting: UrlSetting, cause: unknown): DeliveryError {
  return new DeliveryError('RECEIVER_UNAVAILABLE', `receiver ${redactUrl(url)} cannot be used: ${reason}; not retried`, {
    cause, hint: hintFor(reason, setting),
  });
}

export function tooLargeFailure(method: string, url: string, cap: number, cause: unknown): DeliveryError {
  return new DeliveryError('RECEIVER_PROTOCOL', `receiver answer to ${method} ${redactUrl(url)} is larger than http.max_response_bytes (${cap} bytes): not read further, not retried`, {
    cause, hint: 'no receiver answer is that large: check that url points at the receiver (or raise http.max_response_bytes for a very large reconcile day)',
  });
}

/** The receiver's own short explanation from an error body ({"error", "message"}), safe to print. */
export function receiverMessage(text: string): string | undefined {
  let msg: unknown;
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown } | null;
    msg = typeof body?.message === 'string' ? body.message : body?.error;
  } catch {
    // An HTML error page (a proxy's) speaks through its title, e.g. "400 The plain HTTP request was sent to HTTPS port".
    msg = /^\s*</.test(text) ? /<title>([^<]{1,200})<\/title>/i.exec(text)?.[1] : text;
  }
  if (typeof msg !== 'string') return undefined;
  return printable(msg);
}

// Terminal escape sequences (CSI, OSC) whole, then any other control or bidirectional-override character.
const ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?)?/g;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;
const MAX_MESSAGE_CHARS = 200;

/**
 * Text from the receiver as the agent may print or log it: one line, no escape sequences or control
 * characters (they would drive the operator's terminal), credentials in URLs masked, at most 200
 * characters. Undefined when nothing is left.
 */
export function printable(text: string): string | undefined {
  const line = maskUrlCredentials(text.slice(0, 4 * MAX_MESSAGE_CHARS).replace(ESCAPES, ' ').replace(CONTROLS, ' ')).replace(/\s+/g, ' ').trim();
  if (!line) return undefined;
  return line.length > MAX_MESSAGE_CHARS ? `${[...line].slice(0, MAX_MESSAGE_CHARS - 1).join('')}…` : line;
}

const DISABLED = 'center_disabled';

/** 401/403: the receiver's message (e.g. "centre 001 is disabled") and what to do about it. */
export function authFailure(status: number, text: string): DeliveryError {
  const said = receiverMessage(text);
  let error: unknown;
  try {
    error = (JSON.parse(text) as { error?: unknown } | null)?.error;
  } catch {
    error = undefined;
  }
  const disabled = error === DISABLED || /\bdisabled\b/i.test(said ?? '');
  const hint = disabled
    ? 'the central team disabled this centre at the receiver: nothing is lost (changes stay queued); ask them to enable it again'
    : status === 401
      ? 'the key is missing or unknown to the receiver: check key / INDEXER_KEY'
      : 'the key belongs to another centre: check center (server.json) and key';
  return new DeliveryError('RECEIVER_AUTH', `receiver refused the centre key (HTTP ${status})${said ? `: ${said}` : ''}`, { status, hint });
}

/** A 4xx the agent did not expect (400, 404, 405…): usually a URL that is not the receiver's. */
export function unexpectedStatus(status: number, method: string, url: string, text: string, setting: UrlSetting, what = ''): DeliveryError {
  const said = receiverMessage(text);
  const hint = setting === 'url'
    ? 'check url: it must be the receiver\'s base URL (e.g. https://index.example.org); the agent adds /api/v2/…'
    : 'check webservice_url: it must be the legacy endpoint (e.g. https://index.example.org/api/v1/register)';
  return new DeliveryError('RECEIVER_PROTOCOL', `receiver answered HTTP ${status} to ${what ? `${what} (${method} ${redactUrl(url)})` : `${method} ${redactUrl(url)}`}${said ? `: ${said}` : ''}`, {
    status, hint,
  });
}
