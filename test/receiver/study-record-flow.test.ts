import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toLegacyRecord } from '../../src/agent/delivery/legacy-client.js';
import { VERSION_COLUMNS } from '../../src/receiver/store/study-store.js';
import { contentHash } from '../../src/shared/content-hash.js';
import { DECLARED_FIELDS, STORED_FIELDS, type DeclaredField, type StudyRecord } from '../../src/shared/study-record.js';
import { addCenter, addToken, bearer, http, startReceiver, type Receiver } from './receiver-harness.js';

/**
 * The study record is declared once (shared/study-record.ts). These tests hold every field of the
 * declaration to the receiver's real table (after its migrations), its routes and /openapi.json,
 * so that a field added to the declaration is either carried everywhere or fails here — and a
 * column added by a migration without its field fails too.
 */
const CENTER = 'RF1';

/** A value for each kind of field that survives storage unchanged (a new kind must say what it sends). */
function sample(f: DeclaredField, i: number): unknown {
  switch (f.kind) {
    case 'center': return CENTER;
    case 'uid': return `1.2.826.0.1.${i}`;
    case 'key': return 1000 + i;
    case 'identifier': return `ID-${i}-ñ`;
    case 'text': return `T${i} ñandú`;
    case 'date': return '1980-01-15';
    case 'datetime': return '2015-03-22T00:53:17';
    case 'modalities': return ['CR', 'SR'];
    case 'count': return 3 + i;
    case 'version': return 991;
    case 'deleted': return false;
    case 'hash': return undefined;
  }
}

/** A record with every declared field set to a non-empty value, its hash included. */
function fullRecord(): StudyRecord {
  const r = Object.fromEntries(DECLARED_FIELDS.map((f, i) => [f.name, sample(f, i)])) as unknown as StudyRecord;
  return { ...r, content_hash: contentHash(r) };
}

/** Columns the store keeps for itself, no field's: the row id, the centre's id, write stamps. */
const STORE_COLUMNS = ['id', 'center_id', 'write_id', 'prev_deleted', 'received_at'];

let rx: Receiver;
let key: string;
let token: string;

beforeAll(async () => {
  rx = await startReceiver('rx_record_flow');
  key = await addCenter(rx.store, CENTER);
  token = await addToken(rx.store, 'flow');
});
afterAll(async () => {
  await rx?.close();
});

interface Column {
  name: string;
  nullable: boolean;
  chars: number | null;
}

async function studiesColumns(): Promise<Map<string, Column>> {
  const [rows] = await rx.pool.query<RowDataPacket[]>(
    `SELECT column_name AS name, is_nullable AS nullable, character_maximum_length AS chars
     FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'studies'`,
  );
  return new Map(rows.map((r) => [String(r.name), { name: String(r.name), nullable: r.nullable === 'YES', chars: r.chars === null ? null : Number(r.chars) }]));
}

const nullableOnWire = (f: DeclaredField): boolean => {
  const type = (f.schema as { type?: unknown }).type;
  return Array.isArray(type) && type.includes('null');
};

describe('the declaration against the migrated studies table', () => {
  it('every stored field has its column, of the declared size and nullability', async () => {
    const columns = await studiesColumns();
    for (const f of STORED_FIELDS) {
      const c = columns.get(f.column);
      expect(c, `column ${f.column}`).toBeDefined();
      expect(c!.chars, `${f.column} size`).toBe(f.chars ?? null);
      // An empty modality list is stored as NULL; otherwise a column holds null exactly when the wire can.
      if (f.kind !== 'modalities') expect(c!.nullable, `${f.column} nullable`).toBe(nullableOnWire(f));
    }
  });

  it('the store writes every column of the table, and nothing else', async () => {
    const columns = await studiesColumns();
    const written = [...VERSION_COLUMNS.map((c) => c.column), ...STORE_COLUMNS];
    expect(new Set(written).size).toBe(written.length);
    expect([...written].sort()).toEqual([...columns.keys()].sort());
  });
});

describe('every declared field through the routes', () => {
  const read = async (iuid: string) => (await http(rx.base, 'GET', `/api/v2/studies?study_iuid=${iuid}`, { headers: bearer(token) })).json.items;

  it('v2: a record with every field set is stored and read back as sent (served fields), its hash stored', async () => {
    const rec = fullRecord();
    const r = await http(rx.base, 'POST', `/api/v2/centers/${CENTER}/studies`, { headers: bearer(key), json: { records: [rec] } });
    expect(r.json).toMatchObject({ stored: 1, rejected: [], normalised: {} });
    const served = Object.fromEntries(DECLARED_FIELDS.filter((f) => f.served !== false).map((f) => [f.name, rec[f.name]]));
    expect(await read(rec.study_iuid)).toEqual([served]);
    const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT content_hash FROM studies WHERE study_iuid = ?', [rec.study_iuid]);
    expect(rows[0]?.content_hash).toBe(rec.content_hash);
  });

  it('legacy: the agent\'s legacy record is stored, and each field it carries is read back as it was', async () => {
    const rec = { ...fullRecord(), study_iuid: '1.2.826.0.2' };
    const r = await http(rx.base, 'POST', '/api/v1/register', { headers: { 'x-api-key': key }, json: toLegacyRecord(rec) });
    expect(r.status, r.text).toBe(201);
    const [item] = await read(rec.study_iuid);
    for (const f of DECLARED_FIELDS.filter((x) => x.legacy !== undefined)) expect(item[f.name], f.name).toEqual(rec[f.name]);
  });

  it('/openapi.json documents every declared field in the ingest body and in the read items', async () => {
    const doc = (await http(rx.base, 'GET', '/openapi.json')).json;
    const names = DECLARED_FIELDS.map((f) => f.name);
    const body = doc.paths['/api/v2/centers/{center}/studies'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties.records.items.properties)).toEqual(names);
    const page = doc.paths['/api/v2/studies'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(page.properties.items.items.properties)).toEqual(names);
    const legacy = doc.paths['/api/v1/patient_id/{id}'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(legacy.items.properties)).toEqual(names);
  });
});
