import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessStore, Principal } from '../store/access-store.js';
import { centerDisabled, forbidden, unauthorized } from './api-error.js';
import type { RequestLimiter } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Keys and tokens are 256-bit random secrets, so one unsalted SHA-256 is a sufficient hash. */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The password of `Authorization: Basic base64(user:password)`; the user name is not used. */
function basicPassword(encoded: string): string | null {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon === -1 ? '' : decoded.slice(colon + 1);
  return password === '' ? null : password;
}

/**
 * `Authorization: Bearer …`; `Authorization: Basic` with the key or token as the password (what
 * Orthanc's DICOMweb client and several viewers can send; any user name); else the legacy `X-Api-Key`.
 */
export function credentialOf(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (bearer) return bearer[1]!;
    const basic = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(auth);
    return basic ? basicPassword(basic[1]!) : null;
  }
  const key = req.headers['x-api-key'];
  return typeof key === 'string' && key.trim() !== '' ? key.trim() : null;
}

/** Looks the key up; a disabled centre is named (403), any other refusal says nothing about which keys exist. */
async function authenticate(access: AccessStore, secret: string | null): Promise<Principal> {
  if (!secret) throw unauthorized();
  const hash = hashSecret(secret);
  const principal = await access.findPrincipal(hash);
  // The lookup is by hash; the constant-time comparison guards against any collation surprise.
  if (!principal || principal.hash.length !== hash.length || !timingSafeEqual(principal.hash, hash)) throw unauthorized();
  // A revoked token is refused like an unknown one: the answer does not confirm that a leaked token was real.
  if (!principal.active) throw principal.kind === 'center' ? centerDisabled(principal.name) : unauthorized();
  return principal;
}

export type Role = 'center' | 'token';

/**
 * An onRequest hook admitting only a principal of `role`. A failed authentication counts against the
 * client address (a bad-key flood is then refused before the lookup); a valid one against the key's rate.
 */
export function requireRole(access: AccessStore, role: Role, limiter: RequestLimiter | null) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    let principal: Principal;
    limiter?.metrics.countAuthLookup();
    try {
      principal = await authenticate(access, credentialOf(req));
    } catch (err) {
      if ((err as { status?: number }).status === 401) await limiter?.authFailed(req);
      throw err;
    }
    if (principal.kind !== role) {
      throw forbidden(role === 'center' ? 'a read token cannot write' : 'a centre key cannot read');
    }
    req.principal = principal;
    await limiter?.afterAuth(req, principal, reply);
  };
}

/**
 * requireRole('center') for a route whose URL names the centre: another centre's key is refused
 * (403) in onRequest too, before any body is read, so its connection is closed at once like a 401
 * instead of being held until a trickled body arrives (the request timeout). The legacy route names
 * its centre in the body: there the check can only follow the body.
 */
export function requireOwnCenterKey(access: AccessStore, limiter: RequestLimiter | null) {
  const role = requireRole(access, 'center', limiter);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await role(req, reply);
    ownCenter(req.principal, (req.params as { center?: unknown }).center as string);
  };
}

/** A centre key may act on its own centre only: the centre's code and row id, else 403. */
export function ownCenter(principal: Principal | undefined, center: string): { code: string; id: number } {
  if (!principal || principal.kind !== 'center' || principal.name !== center) throw forbidden('this key belongs to another centre');
  return { code: principal.name, id: principal.id };
}
