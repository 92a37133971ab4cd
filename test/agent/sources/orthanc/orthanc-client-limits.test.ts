import { afterEach, describe, expect, it } from 'vitest';
import { OrthancClient } from '../../../../src/agent/sources/orthanc/orthanc-client.js';
import { endless, sendJson, startHostileServer, trickle, type HostileServer } from '../../../helpers/hostile-server.js';

/**
 * A broken Orthanc (a fake one on loopback) cannot grow the agent's memory: answers are capped at
 * 16 MiB, the study listing at orthanc.max_list_bytes (it legitimately grows with the archive).
 */
const MiB = 1024 * 1024;

/** An Orthanc-style listing of `n` study IDs, pretty-printed as Orthanc does (~50 bytes per ID). */
function listing(n: number): string {
  const ids = Array.from({ length: n }, (_, i) => `"${i.toString(16).padStart(8, '0')}-0f1e2d3c-4b5a6978-8796a5b4-c3d2e1f0"`);
  return `[\n   ${ids.join(',\n   ')}\n]\n`;
}

async function failure(p: Promise<unknown>, ms = 15_000): Promise<{ code?: string; text: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms)))]);
  } catch (err) {
    const e = err as { code?: string; message: string; hint?: string };
    return { code: e.code, text: `${e.message} ${e.hint ?? ''}` };
  } finally {
    clearTimeout(timer);
  }
  throw new Error('expected the request to fail');
}

describe('Orthanc client limits', () => {
  let server: HostileServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('an endless answer fails at the 16 MiB cap, naming the path and the cap', async () => {
    server = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      endless(res, Buffer.alloc(256 * 1024, ' '), server!);
    });
    const f = await failure(new OrthancClient({ url: server.url, timeoutMs: 30_000 }).lastChange());
    expect(f.code).toBe('DB_UNREACHABLE');
    expect(f.text).toContain('GET /changes');
    expect(f.text).toContain(`more than ${16 * MiB} bytes`);
    expect(server.bytesSent).toBeLessThan(64 * MiB);
    expect(server.requests).toBe(1);
  });

  it('the study listing has its own cap (orthanc.max_list_bytes): above it fails, naming the key', async () => {
    const body = listing(40_000); // ~2 MB
    server = await startHostileServer((_req, res) => sendJson(res, 200, JSON.parse(body)));
    const f = await failure(new OrthancClient({ url: server.url, maxListBytes: MiB }).studyIds());
    expect(f.code).toBe('DB_UNREACHABLE');
    expect(f.text).toContain('GET /studies');
    expect(f.text).toContain('orthanc.max_list_bytes');
  });

  it('a listing larger than the 16 MiB answer cap is read whole under the default listing cap', async () => {
    const body = listing(400_000); // ~21 MB: a large but real archive
    server = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const ids = await new OrthancClient({ url: server.url }).studyIds();
    expect(ids).toHaveLength(400_000);
  });

  it('an Orthanc answering 503 is asked once (no retries), DB_UNREACHABLE naming the status and path', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 503, {}));
    const f = await failure(new OrthancClient({ url: server.url }).lastChange());
    expect(f.code).toBe('DB_UNREACHABLE');
    expect(f.text).toContain(`Orthanc at ${server.url} answered HTTP 503 to GET /changes`);
    expect(f.text).not.toContain('receiver');
    expect(server.requests).toBe(1);
  });

  it('a refused connection is DB_UNREACHABLE with Orthanc\'s hint, not a receiver error', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 200, {}));
    const url = server.url;
    await server.close();
    server = undefined;
    const f = await failure(new OrthancClient({ url }).lastChange());
    expect(f.code).toBe('DB_UNREACHABLE');
    expect(f.text).toContain(`Orthanc at ${url} is unreachable`);
    expect(f.text).toContain('check orthanc.url and that Orthanc is running');
  });

  it('a trickling answer fails after the request deadline', async () => {
    server = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      trickle(res, 100, 60_000, server!);
    });
    const f = await failure(new OrthancClient({ url: server.url, timeoutMs: 800 }).lastChange(), 8_000);
    expect(f.code).toBe('DB_UNREACHABLE');
    expect(f.text).toMatch(/within 800 ms/);
  });
});
