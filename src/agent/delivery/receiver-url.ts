import type { Logger } from '../../shared/logger.js';

/**
 * URLs as the agent prints them. Operators embed logins in URLs (`https://user:pass@host`,
 * `http://login:password@orthanc:8042`, `mysql://user:pass@db/pacsdb`): whatever is printed or
 * logged goes through here first.
 */

// The userinfo part, up to the last "@" before the path; greedy over "#" and "?" so an
// unencoded one in a password is masked too.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*(?:@[^\s/@]*)*@/gi;

/** Masks credentials in any text holding URLs: `scheme://********@host`. */
export function maskUrlCredentials(text: string): string {
  return text.replace(USERINFO, '$1********@');
}

/** The URL without its credentials (path and query kept), for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return maskUrlCredentials(url);
  }
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** True for `http://` to a host other than this machine: the key and records would cross the network in clear. */
export function isPlainHttpToRemote(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && !isLoopback(u.hostname);
  } catch {
    return false;
  }
}

/** Logged at the start of every pass that talks to such a receiver. */
export function warnIfPlainHttp(url: string, setting: string, log: Logger): void {
  if (isPlainHttpToRemote(url)) {
    log.warn({ setting, url: redactUrl(url) }, 'receiver URL is plain http to another host: the centre key and the records travel unencrypted; use https');
  }
}
