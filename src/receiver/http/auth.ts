import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessStore, Principal } from '../store/access-store.js';
import { forbidden, unauthorized } from './api-error.js';
import type { RateLimiter } from './rate-limit.js';

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

/** `Authorization: Bearer …`, else the legacy `X-Api-Key` header. */
export function credentialOf(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : null;
  }
  const key = req.headers['x-api-key'];
  return typeof key === 'string' && key.trim() !== '' ? key.trim() : null;
}

async function authenticate(access: AccessStore, secret: string | null): Promise<Principal> {
  if (!secret) throw unauthorized();
  const hash = hashSecret(secret);
  const principal = await access.findPrincipal(hash);
  // The lookup is by hash; the constant-time comparison guards against any collation surprise.
  if (!principal || principal.hash.length !== hash.length || !timingSafeEqual(principal.hash, hash)) throw unauthorized();
  if (!principal.active) throw unauthorized('key disabled or revoked');
  return principal;
}

export type Role = 'center' | 'token';

/** A preHandler admitting only a principal of `role`, then applying the per-key rate limit. */
export function requireRole(access: AccessStore, role: Role, limiter: RateLimiter | null) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const principal = await authenticate(access, credentialOf(req));
    if (principal.kind !== role) {
      throw forbidden(role === 'center' ? 'a read token cannot write' : 'a centre key cannot read');
    }
    req.principal = principal;
    if (limiter && !limiter.take(`${principal.kind}:${principal.id}`)) {
      reply.header('retry-after', '1');
      reply.code(429).send({ error: 'rate_limited', message: 'too many requests for this key' });
    }
  };
}
