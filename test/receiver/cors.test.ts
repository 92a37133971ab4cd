import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken, startReceiver, type Receiver } from './receiver-harness.js';

/**
 * CORS for browser viewers on another origin (RECEIVER_CORS_ORIGINS): only listed origins, only
 * GET, the Authorization header allowed by the preflight, no cookies; off by default.
 */
let on: Receiver;
let off: Receiver;
let token: string;
const VIEWER = 'https://viewer.example.org';

beforeAll(async () => {
  on = await startReceiver('rx_cors_on', { corsOrigins: [VIEWER] });
  off = await startReceiver('rx_cors_off');
  token = await addToken(on.store, 'viewer');
});
afterAll(async () => {
  await on?.close();
  await off?.close();
});

async function preflight(base: string, origin: string, method = 'GET') {
  const res = await request(`${base}/dicom-web/studies?PatientID=1`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization' },
  });
  await res.body.text();
  return res;
}

describe('CORS', () => {
  it('answers a listed origin\'s preflight for GET with Authorization, and its GET with the origin and the Warning header exposed', async () => {
    const pre = await preflight(on.base, VIEWER);
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(VIEWER);
    expect(String(pre.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    expect(String(pre.headers['access-control-allow-methods'])).not.toContain('POST');
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    const res = await request(`${on.base}/dicom-web/studies`, { headers: { origin: VIEWER, authorization: `Bearer ${token}` } });
    await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(VIEWER);
    expect(String(res.headers['access-control-expose-headers'])).toContain('Warning');
  });

  it('gives another origin no CORS headers, and is off unless configured', async () => {
    const other = await preflight(on.base, 'https://evil.example');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const res = await request(`${off.base}/dicom-web/studies`, { headers: { origin: VIEWER } });
    await res.body.text();
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect((await preflight(off.base, VIEWER)).headers['access-control-allow-origin']).toBeUndefined();
  });
});
