import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitSettings } from '../config.js';
import type { AccessStore, Principal } from '../store/access-store.js';
import { safeError } from '../store/db.js';
import { rateLimited } from './api-error.js';
import type { Metrics } from './metrics.js';

type Check = ReturnType<FastifyInstance['createRateLimit']>;
type LimitName = 'address' | 'auth_failures' | 'principal' | 'concurrent_reads';

/** Seconds between two audit entries for the same limited client: a flood writes a few rows, not one per request. */
const AUDIT_EVERY_MS = 60_000;
/** Probes must keep answering behind a balancer even while its address is limited. */
const UNLIMITED_ROUTES = new Set(['/healthz', '/readyz']);
/** Routes that take no key: a bad-key lockout of an address must not blind its monitoring. */
const KEYLESS_ROUTES = new Set(['/metrics', '/openapi.json']);

/**
 * The receiver's rate limits, on @fastify/rate-limit's in-memory store (per instance):
 * - per client address, before the key is looked up, so a flood never reaches the database;
 * - failed authentications per address: past the limit that address is refused unread (bad-key floods);
 * - per key or token, after authentication;
 * - reads in flight per read token, so one client's slow searches cannot hold every database connection.
 * Every 429 is counted in /metrics and audited (limit, who, route pattern; never parameters), at most
 * one audit row per limited client and minute.
 */
export class RequestLimiter {
  private address: Check | undefined;
  private failures: Check | undefined;
  private principal: Check | undefined;
  private readonly lastAudit = new Map<string, { at: number; suppressed: number }>();
  private readonly readsInFlight = new Map<number, number>();

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly access: AccessStore,
    readonly metrics: Metrics,
  ) {}

  /** Registers the plugin; the checks exist once it has loaded (before the server answers). */
  install(app: FastifyInstance): void {
    const s = this.settings;
    app.register(fastifyRateLimit, { global: false });
    app.after(() => {
      if (s.perAddressPerSecond > 0) this.address = app.createRateLimit({ max: s.perAddressPerSecond * 2, timeWindow: 2000 });
      if (s.authFailuresPerMinute > 0) this.failures = app.createRateLimit({ max: s.authFailuresPerMinute, timeWindow: 60_000 });
      if (s.perPrincipalPerSecond > 0) {
        this.principal = app.createRateLimit({
          max: s.perPrincipalPerSecond * 2,
          timeWindow: 2000,
          keyGenerator: (req) => `${req.principal?.kind}:${req.principal?.id}`,
        });
      }
    });
  }

  /** onRequest, before authentication: the address's request rate and its recent authentication failures. */
  async beforeAuth(req: FastifyRequest): Promise<void> {
    const route = req.routeOptions.url ?? '';
    if (UNLIMITED_ROUTES.has(route)) return;
    if (this.failures && !KEYLESS_ROUTES.has(route)) {
      const f = await this.failures(req, { increment: false });
      if (!f.isAllowed && f.isExceeded) this.refuse(req, 'auth_failures', `address:${req.ip}`, f.ttlInSeconds, 'too many failed authentications from this address');
    }
    if (this.address) {
      const a = await this.address(req);
      if (!a.isAllowed && a.isExceeded) this.refuse(req, 'address', `address:${req.ip}`, a.ttlInSeconds, 'too many requests from this address');
    }
  }

  /** Counts one failed authentication for the request's address. */
  async authFailed(req: FastifyRequest): Promise<void> {
    if (this.failures) await this.failures(req);
  }

  /** After authentication: the key's or token's request rate, then a read token's reads in flight. */
  async afterAuth(req: FastifyRequest, principal: Principal, reply: FastifyReply): Promise<void> {
    const who = principal.kind === 'token' ? principal.name : `center:${principal.name}`;
    if (this.principal) {
      const p = await this.principal(req);
      if (!p.isAllowed && p.isExceeded) this.refuse(req, 'principal', who, p.ttlInSeconds, 'too many requests for this key');
    }
    if (principal.kind === 'token') this.enterRead(req, principal.id, who, reply);
  }

  /** One more read in flight for the token, until its response is finished or its connection gone. */
  private enterRead(req: FastifyRequest, tokenId: number, who: string, reply: FastifyReply): void {
    const cap = this.settings.concurrentReadsPerToken;
    if (cap <= 0) return;
    const now = this.readsInFlight.get(tokenId) ?? 0;
    if (now >= cap) this.refuse(req, 'concurrent_reads', who, 1, `more than ${cap} reads at once for this token: wait for one to finish`);
    this.readsInFlight.set(tokenId, now + 1);
    reply.raw.once('close', () => {
      const left = (this.readsInFlight.get(tokenId) ?? 1) - 1;
      if (left <= 0) this.readsInFlight.delete(tokenId);
      else this.readsInFlight.set(tokenId, left);
    });
  }

  private refuse(req: FastifyRequest, limit: LimitName, who: string, retryAfter: number, message: string): never {
    this.metrics.countRateLimited(limit);
    this.audit(req, limit, who);
    throw rateLimited(message, Math.max(1, retryAfter));
  }

  /** Written in the background: a refused request must not wait for, nor fail on, the database. */
  private audit(req: FastifyRequest, limit: LimitName, who: string): void {
    const key = `${limit}|${who}`;
    const now = Date.now();
    const last = this.lastAudit.get(key);
    if (last && now - last.at < AUDIT_EVERY_MS) {
      last.suppressed += 1;
      return;
    }
    if (this.lastAudit.size > 10_000) this.lastAudit.clear(); // bounds memory under address-rotating floods
    this.lastAudit.set(key, { at: now, suppressed: 0 });
    const entry = {
      token_name: who.slice(0, 128),
      route: `${req.method} ${req.routeOptions.url ?? 'unmatched'}`.slice(0, 128),
      parameters: JSON.stringify({ rate_limit: limit, refused_since_last_entry: last?.suppressed ?? 0 }),
      result_count: 0,
      status: 429,
    };
    this.access.writeAudit(entry).catch((err: unknown) => req.log.error({ err: safeError(err) }, 'audit write failed'));
  }
}
