import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLegacyClient, toLegacyRecord } from '../../../src/agent/delivery/legacy-client.js';
import { parseRetryAfter } from '../../../src/agent/http/http-transport.js';
import { createReceiverClient, probeReceiver } from '../../../src/agent/delivery/receiver-client.js';
import { tombstoneRecord } from '../../../src/agent/record/tombstone-record.js';
import type { StudyRecord } from '../../../src/shared/study-record.js';
import { BATCHES, LEGACY_POSTS, startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import { silentLog } from '../support/agent-harness.js';

const http = { timeout_ms: 1000, deadline_ms: 10_000, max_response_bytes: 1 << 20, retries: 2, min_backoff_ms: 1, max_backoff_ms: 20, ca_file: null };
const signal = new AbortController().signal;

function records(n: number, seq = 1): StudyRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    ...tombstoneRecord('000', `1.2.${i}`, i + 1, seq), deleted: false, patient_name: 'MUÑOZ^JOSÉ', study_datetime: '2015-03-22T00:53:17',
  }));
}

describe('v2 receiver client', () => {
  let receiver: CentralReceiver;
  beforeEach(async () => {
    receiver = await startCentralReceiver('receiver_client', { '000': 'k' });
  });
  afterEach(async () => {
    await receiver.close();
  });
  const client = (over: object = {}) =>
    createReceiverClient({ url: receiver.url, center: '000', key: 'k', batch_size: 10, max_in_flight: 2, http, ...over }, silentLog);

  it('splits records into batches of batch_size, at most max_in_flight at once, gzip bodies decoded intact', async () => {
    receiver.proxy.latencyMs = 30;
    const c = client();
    const result = await c.send(records(45), signal);
    await c.close();
    expect(receiver.batchSizes().sort((a, b) => a - b)).toEqual([5, 10, 10, 10, 10]);
    expect(receiver.proxy.counts.maxInFlight).toBeLessThanOrEqual(2);
    expect(result).toMatchObject({ stored: 45, unchanged: 0, stale: 0, rejected: [] });
    expect((await receiver.held('000')).get('1.2.0')?.patient_name).toBe('MUÑOZ^JOSÉ');
  });

  it('reports unchanged and stale re-sends as the receiver counts them', async () => {
    const c = client();
    await c.send(records(3, 5), signal);
    const again = await c.send(records(3, 5), signal);
    const older = await c.send(records(3, 4), signal);
    await c.close();
    expect(again).toMatchObject({ stored: 0, unchanged: 3 });
    expect(older).toMatchObject({ stored: 0, stale: 3 });
  });

  it('halves a batch the receiver finds too large (413)', async () => {
    const small = await startCentralReceiver('receiver_client_small', { '000': 'k' }, { limits: { recordsPerBatch: 4 } });
    const c = createReceiverClient({ url: small.url, center: '000', key: 'k', batch_size: 10, max_in_flight: 2, http }, silentLog);
    const result = await c.send(records(10), signal);
    await c.close();
    const sizes = small.batchSizes();
    await small.close();
    expect(result.stored).toBe(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
  });

  it('maps rejected indexes back to their records', async () => {
    receiver.proxy.corruptIuids.add('1.2.13');
    const c = client();
    const result = await c.send(records(15), signal);
    await c.close();
    expect(result.rejected.map((r) => r.record.study_iuid)).toEqual(['1.2.13']);
    expect(result.stored).toBe(14);
  });

  it('an answer that is not the contract shape is a protocol error', async () => {
    receiver.proxy.enqueue(BATCHES, { kind: 'status', status: 200, body: 'ok' });
    const c = client();
    await expect(c.send(records(1), signal)).rejects.toMatchObject({ code: 'RECEIVER_PROTOCOL' });
    await c.close();
  });

  it('a 400 for the batch is a protocol error, not retried', async () => {
    receiver.proxy.enqueue(BATCHES, { kind: 'status', status: 400 });
    const c = client();
    await expect(c.send(records(1), signal)).rejects.toMatchObject({ code: 'RECEIVER_PROTOCOL', status: 400 });
    expect(receiver.proxy.count(BATCHES)).toBe(1);
    await c.close();
  });

  it("a key of another centre (403) shows the receiver's message and the centre hint, not retried", async () => {
    const c = createReceiverClient({ url: receiver.url, center: '001', key: 'k', batch_size: 10, max_in_flight: 1, http }, silentLog);
    const err = await c.send(records(1), signal).catch((e: unknown) => e);
    await c.close();
    expect(err).toMatchObject({ code: 'RECEIVER_AUTH', status: 403, message: 'receiver refused the centre key (HTTP 403): this key belongs to another centre' });
    expect((err as { hint: string }).hint).toMatch(/another centre/);
    expect(receiver.proxy.count(BATCHES)).toBe(1);
  });

  it('the probe of `indexer check` against a wrong base URL names the URL and says to check url', async () => {
    const err = await probeReceiver({ url: `${receiver.url}/indexer`, center: '000', key: 'k', batch_size: 10, max_in_flight: 1, http }, silentLog, signal)
      .then(() => ({ message: 'resolved', hint: '' }), (e: unknown) => e as { message: string; hint: string });
    expect(err).toMatchObject({ code: 'RECEIVER_PROTOCOL', status: 404 });
    expect(err.message).toContain(`${receiver.url}/indexer/api/v2/centers/000/studies`);
    expect(err.message).toContain('no such route');
    expect(err.hint).toMatch(/^check url/);
  });

  it('an abort stops retrying with INTERRUPTED', async () => {
    const ac = new AbortController();
    receiver.proxy.enqueue(BATCHES, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const c = createReceiverClient({ url: receiver.url, center: '000', key: 'k', batch_size: 10, max_in_flight: 1, http: { ...http, min_backoff_ms: 5000, max_backoff_ms: 5000 } }, silentLog);
    const sending = c.send(records(1), ac.signal);
    setTimeout(() => ac.abort(), 100);
    await expect(sending).rejects.toMatchObject({ code: 'INTERRUPTED' });
    await c.close();
  });
});

describe('legacy client', () => {
  it('maps to the seed v1 fields with Python-style datetimes', () => {
    const [r] = records(1);
    expect(toLegacyRecord(r!)).toMatchObject({ study_datetime: '2015-03-22 00:53:17', center: '000', study_iuid: '1.2.0' });
    expect(toLegacyRecord({ ...r!, study_datetime: null }).study_datetime).toBe('None');
  });

  it('posts live records one by one and skips tombstones', async () => {
    const receiver = await startCentralReceiver('legacy_client', { '000': 'k' });
    const c = createLegacyClient({ webservice_url: receiver.legacyUrl, key: 'k', max_in_flight: 2, http }, silentLog);
    const result = await c.send([...records(3), tombstoneRecord('000', '9.9', 9, 1)], signal);
    await c.close();
    const posts = receiver.proxy.count(LEGACY_POSTS);
    await receiver.close();
    expect(result).toMatchObject({ stored: 3, skipped: 1 });
    expect(posts).toBe(3);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
