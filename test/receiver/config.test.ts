import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_RATE_LIMITS, DEFAULT_READS, DEFAULT_TIMEOUTS, loadReceiverConfig } from '../../src/receiver/config.js';
import { ConfigError } from '../../src/shared/errors.js';

const URL_OK = 'mysql://u:secretpw@db.example:3306/index';

function errorOf(env: Record<string, string>, needsServer = true): ConfigError {
  try {
    loadReceiverConfig(env, needsServer);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('receiver configuration', () => {
  it('defaults', () => {
    const c = loadReceiverConfig({ RECEIVER_DATABASE_URL: URL_OK });
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, limits: DEFAULT_LIMITS, tls: undefined, rateLimits: DEFAULT_RATE_LIMITS, timeouts: DEFAULT_TIMEOUTS, trustProxy: [] });
    // On by default: a flood is refused before it reaches the database, a trickling client is cut off.
    expect(c.rateLimits.perAddressPerSecond).toBeGreaterThan(0);
    expect(c.rateLimits.authFailuresPerMinute).toBeGreaterThan(0);
    expect(c.timeouts.requestMs).toBeGreaterThan(0);
  });

  it('reads the search bounds of the read interfaces and the public URL', () => {
    expect(loadReceiverConfig({ RECEIVER_DATABASE_URL: URL_OK }).reads).toEqual(DEFAULT_READS);
    const c = loadReceiverConfig({
      RECEIVER_DATABASE_URL: URL_OK, RECEIVER_QUERY_TIME_LIMIT_MS: '250', RECEIVER_QUERY_MAX_OFFSET: '0', RECEIVER_DICOMWEB_MAX_RESULTS: '200',
      RECEIVER_FHIR_DEFAULT_COUNT: '10', RECEIVER_FHIR_MAX_COUNT: '100', RECEIVER_PUBLIC_URL: 'https://index.example.org/base/',
    });
    expect(c.reads).toEqual({ timeLimitMs: 250, maxOffset: 0, dicomwebMaxResults: 200, fhirDefaultCount: 10, fhirMaxCount: 100, publicUrl: 'https://index.example.org/base' });
    const err = errorOf({ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_PUBLIC_URL: 'ftp://x.example', RECEIVER_QUERY_TIME_LIMIT_MS: '5', RECEIVER_DICOMWEB_MAX_RESULTS: '0' });
    expect(err.message).toContain('RECEIVER_PUBLIC_URL="ftp://x.example" is invalid: expected an http(s) URL');
    expect(err.message).toContain('RECEIVER_QUERY_TIME_LIMIT_MS="5" is invalid');
    expect(err.message).toContain('RECEIVER_DICOMWEB_MAX_RESULTS="0" is invalid');
    expect(errorOf({ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_PUBLIC_URL: 'https://x.example/?a=1' }).message).toContain('RECEIVER_PUBLIC_URL');
  });

  it('reads the CORS origins, refusing anything but origins or a lone *', () => {
    expect(loadReceiverConfig({ RECEIVER_DATABASE_URL: URL_OK }).corsOrigins).toEqual([]);
    expect(loadReceiverConfig({ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_CORS_ORIGINS: 'https://a.example, http://b.example:8042/' }).corsOrigins)
      .toEqual(['https://a.example', 'http://b.example:8042']);
    expect(loadReceiverConfig({ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
    for (const bad of ['https://a.example/path', 'a.example', 'ftp://a.example', '*,https://a.example']) {
      expect(errorOf({ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_CORS_ORIGINS: bad }).message).toContain('RECEIVER_CORS_ORIGINS');
    }
  });

  it('reads the limits and listen address', () => {
    const c = loadReceiverConfig({
      RECEIVER_DATABASE_URL: URL_OK, RECEIVER_HOST: '0.0.0.0', RECEIVER_PORT: '9000', RECEIVER_BODY_LIMIT: '2048',
      RECEIVER_DECOMPRESSED_LIMIT: '4096', RECEIVER_MAX_RECORDS: '10', RECEIVER_RATE_LIMIT: '5',
    });
    expect(c).toMatchObject({ host: '0.0.0.0', port: 9000, limits: { bodyBytes: 2048, decompressedBytes: 4096, recordsPerBatch: 10 }, rateLimits: { perPrincipalPerSecond: 5 } });
  });

  it('reads the timeouts, connection cap, rate limits and trusted proxies', () => {
    const c = loadReceiverConfig({
      RECEIVER_DATABASE_URL: URL_OK, RECEIVER_HEADERS_TIMEOUT_MS: '5000', RECEIVER_REQUEST_TIMEOUT_MS: '7000', RECEIVER_SOCKET_TIMEOUT_MS: '9000',
      RECEIVER_KEEP_ALIVE_TIMEOUT_MS: '3000', RECEIVER_MAX_REQUESTS_PER_SOCKET: '0', RECEIVER_MAX_CONNECTIONS: '64', RECEIVER_ADDRESS_RATE_LIMIT: '0',
      RECEIVER_AUTH_FAILURE_LIMIT: '10', RECEIVER_INFLIGHT_BODY_LIMIT: String(256 * 1024 * 1024), RECEIVER_TRUST_PROXY: '10.0.0.5, 10.1.0.0/16,::1',
      RECEIVER_MAX_CONNECTIONS_PER_ADDRESS: '0', RECEIVER_FIRST_BYTE_TIMEOUT_MS: '2000', RECEIVER_MAX_JSON_TOKENS: '20000',
    });
    expect(c.timeouts).toEqual({
      headersMs: 5000, requestMs: 7000, socketIdleMs: 9000, keepAliveMs: 3000, maxRequestsPerSocket: 0, maxConnections: 64, maxConnectionsPerAddress: 0, firstByteMs: 2000,
    });
    expect(c.limits.jsonTokens).toBe(20000);
    expect(DEFAULT_TIMEOUTS).toMatchObject({ maxConnectionsPerAddress: 32, firstByteMs: 5000 });
    expect(c.rateLimits).toEqual({ perPrincipalPerSecond: DEFAULT_RATE_LIMITS.perPrincipalPerSecond, perAddressPerSecond: 0, authFailuresPerMinute: 10, concurrentReadsPerToken: 4 });
    expect(c.limits.inflightBodyBytes).toBe(256 * 1024 * 1024);
    expect(c.trustProxy).toEqual(['10.0.0.5', '10.1.0.0/16', '::1']);
  });

  it.each([
    [{}, /RECEIVER_DATABASE_URL is not set/],
    [{ RECEIVER_DATABASE_URL: 'postgres://x/y' }, /RECEIVER_DATABASE_URL.*expected mysql:\/\//],
    [{ RECEIVER_DATABASE_URL: 'mysql://host' }, /RECEIVER_DATABASE_URL.*expected/],
    [{ RECEIVER_DATABASE_URL: 'mysql://u:secretpw#x@db.example:3306/index' }, /RECEIVER_DATABASE_URL contains an unencoded '#': percent-encode .*# → %23/],
    [{ RECEIVER_DATABASE_URL: 'mysql://u:secretpw/x@db.example:3306/index' }, /RECEIVER_DATABASE_URL .*percent-encode/],
    [{ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_INFLIGHT_BODY_LIMIT: '2048' }, /RECEIVER_INFLIGHT_BODY_LIMIT="2048" is invalid: expected at least RECEIVER_BODY_LIMIT/],
    [{ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_TRUST_PROXY: '10.0.0.1,nope' }, /RECEIVER_TRUST_PROXY="10.0.0.1,nope" is invalid: expected comma-separated IP addresses or CIDRs/],
    [{ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_REQUEST_TIMEOUT_MS: '0' }, /RECEIVER_REQUEST_TIMEOUT_MS="0" is invalid/],
    [{ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_PORT: '70000' }, /RECEIVER_PORT="70000" is invalid: expected an integer from 0 to 65535/],
    [{ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_MAX_RECORDS: '-1' }, /RECEIVER_MAX_RECORDS="-1"/],
    [{ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_LOG_LEVEL: 'loud' }, /RECEIVER_LOG_LEVEL="loud"/],
    [{ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_TLS_CERT: '/nonexistent.pem' }, /RECEIVER_TLS_KEY/],
    [{ RECEIVER_DATABASE_URL: URL_OK, RECEIVER_TLS_CERT: '/nonexistent.pem', RECEIVER_TLS_KEY: '/nonexistent.key' }, /RECEIVER_TLS_CERT="\/nonexistent.pem".*readable PEM/],
  ])('%j is refused with a message naming the variable', (env, message) => {
    const err = errorOf(env as Record<string, string>);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('secretpw');
  });

  it('reports every invalid variable at once, each with its value and what was expected', () => {
    const err = errorOf({ RECEIVER_DATABASE_URL: 'postgres://u:secretpw@x/y', RECEIVER_PORT: '70000', RECEIVER_LOG_LEVEL: 'loud', RECEIVER_TRUST_PROXY: 'nope' });
    expect(err.code).toBe('CONFIG_INVALID');
    for (const part of [
      /RECEIVER_DATABASE_URL is invalid: expected mysql:\/\//, /RECEIVER_PORT="70000" is invalid: expected an integer from 0 to 65535/,
      /RECEIVER_LOG_LEVEL="loud" is invalid: expected one of fatal, error/, /RECEIVER_TRUST_PROXY="nope" is invalid/,
    ]) expect(err.message).toMatch(part);
    expect(err.message).not.toContain('secretpw');
  });

  it('reads TLS files, only for serve', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rx-tls-'));
    writeFileSync(join(dir, 'c.pem'), 'CERT');
    writeFileSync(join(dir, 'k.pem'), 'KEY');
    const env = { RECEIVER_DATABASE_URL: URL_OK, RECEIVER_TLS_CERT: join(dir, 'c.pem'), RECEIVER_TLS_KEY: join(dir, 'k.pem') };
    expect(loadReceiverConfig(env).tls?.cert.toString()).toBe('CERT');
    expect(loadReceiverConfig({ ...env, RECEIVER_TLS_KEY: '/missing' }, false).tls).toBeUndefined();
  });
});
