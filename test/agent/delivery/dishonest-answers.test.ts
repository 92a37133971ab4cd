import { afterEach, describe, expect, it } from 'vitest';
import { printable } from '../../../src/agent/delivery/http-failure.js';
import { createReceiverClient, parseAnswer } from '../../../src/agent/delivery/receiver-client.js';
import { parseFloor } from '../../../src/agent/delivery/version-floor.js';
import { tombstoneRecord } from '../../../src/agent/record/tombstone-record.js';
import { MAX_SOURCE_SEQ, MAX_VERSION_FLOOR } from '../../../src/shared/record-limits.js';
import type { StudyRecord } from '../../../src/shared/study-record.js';
import { sendJson, startHostileServer, type HostileServer } from '../../helpers/hostile-server.js';
import { silentLog } from '../support/agent-harness.js';

/**
 * A receiver whose 200 does not account for every record must acknowledge nothing: counts that
 * do not add up, negative or fractional counts, rejected indexes out of range or repeated. A floor
 * the agent cannot allocate above is refused before anything is sent. What the receiver says is
 * printed only as one short line without escapes or credentials.
 */
const URL_WITH_LOGIN = 'http://alice:s3cr3t-pw@127.0.0.1:9/';
const ok = (o: Record<string, unknown>) => JSON.stringify({ stored: 0, unchanged: 0, stale: 0, rejected: [], normalised: {}, ...o });
const signal = new AbortController().signal;
const http = { timeout_ms: 1000, deadline_ms: 10_000, max_response_bytes: 1 << 20, retries: 1, min_backoff_ms: 1, max_backoff_ms: 5, ca_file: null };

function records(n: number): StudyRecord[] {
  return Array.from({ length: n }, (_, i) => ({ ...tombstoneRecord('000', `1.2.${i}`, i + 1, i + 1), deleted: false }));
}

function protocolError(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a protocol error');
}

describe('parseAnswer: every record accounted for, once', () => {
  it('accepts counts that add up, rejected indexes in range and unique', () => {
    const a = parseAnswer(ok({ stored: 7, unchanged: 1, stale: 0, rejected: [{ index: 3, reason: 'x' }, { index: 9, reason: 'y' }] }), 10, URL_WITH_LOGIN);
    expect(a).toMatchObject({ stored: 7, unchanged: 1, stale: 0, rejected: [{ index: 3, reason: 'x' }, { index: 9, reason: 'y' }] });
  });

  it.each([
    ['counts that add up to nothing (stored 0 for 100 records)', ok({}), 100],
    ['counts that add up to more', ok({ stored: 101 }), 100],
    ['a negative count', ok({ stored: 101, unchanged: -1 }), 100],
    ['a fractional count', ok({ stored: 99.5, stale: 0.5 }), 100],
    ['a count as text', ok({ stored: '100' }), 100],
    ['a rejected index out of range', ok({ stored: 99, rejected: [{ index: 99999, reason: 'no' }] }), 100],
    ['a negative rejected index', ok({ stored: 99, rejected: [{ index: -1, reason: 'no' }] }), 100],
    ['the same index rejected twice', ok({ stored: 98, rejected: [{ index: 0, reason: 'a' }, { index: 0, reason: 'b' }] }), 100],
    ['a rejected entry without an index', ok({ stored: 99, rejected: [{ reason: 'no' }] }), 100],
    ['rejected not a list', ok({ stored: 100, rejected: 'none' }), 100],
    ['a body that is not JSON', '<html>not json{{{', 100],
    ['JSON without the counts', '{"foo":"bar"}', 100],
  ])('%s → RECEIVER_PROTOCOL naming the URL (without its login), nothing acknowledged', (_name, body, sent) => {
    const e = protocolError(() => parseAnswer(body, sent, `${URL_WITH_LOGIN}api/v2/centers/000/studies`));
    expect(e.code).toBe('RECEIVER_PROTOCOL');
    expect(e.message).toContain('127.0.0.1:9/api/v2/centers/000/studies');
    expect(e.message).toContain('nothing acknowledged');
    expect(e.message).not.toMatch(/alice|s3cr3t/);
  });
});

describe('the client against a receiver whose answers do not add up', () => {
  let server: HostileServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('a 200 with short counts fails the send (exit 6 family), it is not a success', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 200, { stored: 0, unchanged: 0, stale: 0, rejected: [] }));
    const c = createReceiverClient({ url: server.url, center: '000', key: 'k', batch_size: 100, max_in_flight: 1, http }, silentLog);
    await expect(c.send(records(100), signal)).rejects.toMatchObject({ code: 'RECEIVER_PROTOCOL', message: expect.stringMatching(/add up to 0/) });
    await c.close();
  });

  it("the receiver's rejected reasons become one printable line (no escapes, no credentials, at most 200 characters)", async () => {
    server = await startHostileServer((_req, res) =>
      sendJson(res, 200, { stored: 1, unchanged: 0, stale: 0, rejected: [{ index: 0, reason: `bad \u001b[31mRED\u001b[0m\r\nFAKE LOG LINE http://bob:pw123@evil/ ${'X'.repeat(5000)}` }] }));
    const c = createReceiverClient({ url: server.url, center: '000', key: 'k', batch_size: 10, max_in_flight: 1, http }, silentLog);
    const r = await c.send(records(2), signal);
    await c.close();
    const reason = r.rejected[0]!.reason;
    expect(reason).toMatch(/^bad RED FAKE LOG LINE http:\/\/\*+@evil\/ X+…$/);
    expect(reason).not.toMatch(/[\u0000-\u001f]/);
    expect(reason).not.toContain('pw123');
    expect([...reason].length).toBeLessThanOrEqual(200);
  });
});

describe('printable', () => {
  it('drops terminal escapes, controls and bidi overrides; masks URL logins; caps the length', () => {
    expect(printable('no such route http://user:secretpw@evil/ \u001b[31mRED')).toBe('no such route http://********@evil/ RED');
    expect(printable('\u001b]0;owned\u0007title \u202eevil')).toBe('title evil');
    expect(printable('\u0000\u001b')).toBeUndefined();
    expect(printable('é'.repeat(5_000_000))!.length).toBe(200);
  });
});

describe('version floor above what the agent can allocate above', () => {
  // Up to MAX_SOURCE_SEQ − 2^31: a floor at the maximum itself would leave no version to allocate.
  it(`accepts up to ${MAX_VERSION_FLOOR} (2^53-2^32-2^31); refuses above it, naming the value and the recovery`, () => {
    expect(parseFloor(JSON.stringify({ center: '000', highest_source_seq: MAX_VERSION_FLOOR }))).toBe(MAX_VERSION_FLOOR);
    expect(protocolError(() => parseFloor(JSON.stringify({ center: '000', highest_source_seq: MAX_SOURCE_SEQ }))).code).toBe('RECEIVER_PROTOCOL');
    const e = protocolError(() => parseFloor(JSON.stringify({ center: '000', highest_source_seq: Number.MAX_SAFE_INTEGER })));
    expect(e.code).toBe('RECEIVER_PROTOCOL');
    expect(e.message).toContain(String(Number.MAX_SAFE_INTEGER));
    expect((e as { hint?: string }).hint).toMatch(/docs\/receiver\.md/);
  });

  it('the client asks for the floor and fails before any batch is posted', async () => {
    let posts = 0;
    const server = await startHostileServer((req, res) => {
      if (req.method === 'POST') posts += 1;
      if (req.url?.endsWith('/source-seq')) sendJson(res, 200, { center: '000', highest_source_seq: 2 ** 53 - 1 });
      else sendJson(res, 200, { stored: 1, unchanged: 0, stale: 0, rejected: [] });
    });
    const c = createReceiverClient({ url: server.url, center: '000', key: 'k', batch_size: 10, max_in_flight: 1, http }, silentLog);
    await expect(c.versionFloor!(signal)).rejects.toMatchObject({ code: 'RECEIVER_PROTOCOL' });
    await c.close();
    await server.close();
    expect(posts).toBe(0);
  });
});
