import { gzipSync } from 'node:zlib';
import { record } from './receiver-harness.js';

/**
 * A deterministic generator of malformed requests for the receiver fuzz suite. Each case names its
 * category and, for ingest bodies, the study_iuid of every record (index → iuid) so the suite can
 * check that nothing from a rejected record was stored.
 */
export interface FuzzCase {
  category: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Records posted, by index: their study_iuid (unique per record), or null when it is not a string. */
  iuids?: (string | null)[];
}

export interface FuzzContext {
  key: string;
  center: string;
  otherCenter: string;
  token: string;
  /** Studies stored before the fuzzing: rejected records aimed at them must change nothing. */
  existing: string[];
}

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIELDS = [
  'center', 'study_iuid', 'study_pk', 'patient_pk', 'patient_id', 'patient_id_issuer', 'patient_name', 'patient_birthdate',
  'patient_sex', 'study_datetime', 'study_description', 'study_modality', 'modalities', 'study_series', 'study_instances',
  'accession_no', 'study_id', 'referring_physician', 'source_seq', 'deleted', 'content_hash',
];
const SQL_META = [`'`, `"`, `' OR '1'='1`, `'; DROP TABLE studies; --`, `%`, `_`, `\\`, `\\'`, `%_%`, `!%`, `/*`, `*/`, `--`, `#`,
  '`', `\\0`, `\u0000`, `) OR (1=1`, `UNION SELECT * FROM centers`, `${'%'.repeat(200)}`, `ñ%_\\`, `\u202e`, `😀`, ` `];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

function wrongValue(r: () => number, n: number): unknown {
  const values: unknown[] = [
    12, -1, 1.5, 1e308, -9007199254740993, true, false, {}, { a: 1 }, [], [1, 2], ['x', 3], '', ' ', 'x'.repeat(300),
    '2020-02-30T00:00:00', '9999-99-99', 'NaN', '-5', '1e3', '0x10', '\u0000', 'None', [[['deep']]], { $gt: '' }, null,
    'A'.repeat(70_000), `fz-sql${pick(r, SQL_META)}`, n,
  ];
  return pick(r, values);
}

export class FuzzGenerator {
  private n = 0;
  private readonly r: () => number;

  constructor(private readonly ctx: FuzzContext, seed: number) {
    this.r = rng(seed);
  }

  private iuid(): string {
    this.n += 1;
    return `fz.${this.n}`;
  }

  private ingest(category: string, records: unknown[], extra: Partial<FuzzCase> = {}): FuzzCase {
    const iuids = records.map((x) => (typeof x === 'object' && x !== null && typeof (x as { study_iuid?: unknown }).study_iuid === 'string'
      ? (x as { study_iuid: string }).study_iuid : null));
    return {
      category, method: 'POST', path: `/api/v2/centers/${this.ctx.center}/studies`,
      headers: { authorization: `Bearer ${this.ctx.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records }), iuids, ...extra,
    };
  }

  /** One record with one field replaced by a wrong value (rejected or, when tolerable, stored). */
  private wrongTypes(): FuzzCase {
    const rec: Record<string, unknown> = { ...record(this.iuid(), 1_000_000 + this.n), [pick(this.r, FIELDS)]: wrongValue(this.r, this.n) };
    return this.ingest('wrong types', [record(this.iuid(), 1), rec]);
  }

  /** A newer version of an existing study that must be rejected: the stored study must not change. */
  private rejectedUpdate(): FuzzCase {
    const bad = pick(this.r, [
      { study_datetime: ['2020-02-01T00:00:00'] }, { source_seq: -1 }, { source_seq: 2 ** 53 - 1 }, { source_seq: '2.5' }, { deleted: 'yes' }, { content_hash: 'XYZ' },
      { accession_no: 'A'.repeat(65) }, { study_series: 'many' }, { modalities: 'CT' }, { center: this.ctx.otherCenter }, { study_pk: -3 },
    ]);
    const rec = { ...record(pick(this.r, this.ctx.existing), 2_000_000 + this.n, { study_description: 'must not be stored' }), ...bad };
    return this.ingest('rejected updates of existing studies', [rec, record(this.iuid(), 1)]);
  }

  private badJson(): FuzzCase {
    const valid = JSON.stringify({ records: [record(this.iuid(), 1)] });
    const cut = Math.floor(this.r() * valid.length);
    const variants = [valid.slice(0, cut), `${valid.slice(0, cut)}}}}`, valid.replace(/"/g, "'"), '{"records": [,]}', 'null', 'true', '"x"',
      '{"records": [1,]}', '{"records": NaN}', `{"records": [${'{'.repeat(3)}]}`, '\uFEFF{"records": []', '{"__proto__": {"records": []}}',
      '{"constructor": {"prototype": {"x": 1}}}', '{"records": []} trailing', '[{"records": []}]', '{"records": "[]"}'];
    return { ...this.ingest('bad JSON', []), body: pick(this.r, variants), iuids: [] };
  }

  private hugeStrings(): FuzzCase {
    const field = pick(this.r, FIELDS.filter((f) => f !== 'study_iuid'));
    const big = pick(this.r, ['x', 'é', '😀', '\u0000', '%']).repeat(20_000 + Math.floor(this.r() * 30_000));
    return this.ingest('huge strings', [{ ...record(this.iuid(), 1), [field]: big }, { ...record(this.iuid(), 1), study_iuid: big }]);
  }

  private deepNesting(): FuzzCase {
    const depth = pick(this.r, [100, 1_000, 10_000, 50_000]);
    const shape = pick(this.r, ['array', 'object', 'field']);
    const nest = shape === 'object' ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const body = shape === 'field'
      ? `{"records": [{"study_iuid": "${this.iuid()}", "source_seq": 1, "modalities": ${nest}}]}`
      : `{"records": [${nest}]}`;
    return { ...this.ingest('deep nesting', []), body, iuids: [] };
  }

  private gzipCase(): FuzzCase {
    const base = this.ingest('gzip bomb', []);
    const headers = { ...base.headers, 'content-encoding': 'gzip' };
    const kind = this.r();
    if (kind < 0.2) return { ...base, headers, body: gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20)), iuids: [] };
    const valid = gzipSync(JSON.stringify({ records: [record(this.iuid(), 1)] }));
    const corrupt = [valid.subarray(0, Math.floor(valid.length / 2)), Buffer.from('not gzip at all'),
      Buffer.concat([valid.subarray(0, 10), Buffer.alloc(20, 0xff)]), Buffer.alloc(0), gzipSync('{"records": [')];
    return { ...base, category: 'corrupt gzip', headers, body: pick(this.r, corrupt), iuids: [] };
  }

  private invalidUtf8(): FuzzCase {
    const id = this.iuid();
    const bad = pick(this.r, [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]]);
    const field = pick(this.r, ['patient_name', 'study_iuid', 'study_description', 'patient_id', 'center']);
    const head = Buffer.from(`{"records": [{"study_iuid": "${id}", "source_seq": 1, "${field}": "a`);
    const body = Buffer.concat([head, Buffer.from(bad), Buffer.from('b"}]}')]);
    return { ...this.ingest('invalid UTF-8', []), body, iuids: [field === 'study_iuid' ? null : id] };
  }

  private filterMeta(): FuzzCase {
    const params = ['patient_id', 'center', 'modality', 'from', 'to', 'accession_no', 'study_iuid', 'name', 'description', 'include_deleted', 'limit', 'cursor'];
    const value = `${pick(this.r, ['', 'PER', '1.2', 'CT', '2020-01-01'])}${pick(this.r, SQL_META)}${pick(this.r, SQL_META)}`;
    const r = this.r();
    const path = r < 0.6
      ? `/api/v2/studies?${new URLSearchParams({ [pick(this.r, params)]: value })}`
      : r < 0.75 ? `/api/v2/patients/${encodeURIComponent(value || '%')}/studies`
        : r < 0.9 ? `/api/v1/${pick(this.r, ['patient_id', 'patient_name', 'description'])}/${encodeURIComponent(value || '_')}`
          : `/api/v2/stats?group_by=${encodeURIComponent(value)}`;
    const auth: Record<string, string> = path.startsWith('/api/v1') ? { 'x-api-key': this.ctx.token } : { authorization: `Bearer ${this.ctx.token}` };
    return { category: 'SQL metacharacters in filters', method: 'GET', path, headers: auth };
  }

  private reconcileMeta(): FuzzCase {
    const day = `${pick(this.r, ['2020-01-01', 'undated', ''])}${pick(this.r, SQL_META)}`;
    return { category: 'SQL metacharacters in filters', method: 'GET',
      path: `/api/v2/centers/${this.ctx.center}/reconcile/studies?day=${encodeURIComponent(day)}`, headers: { authorization: `Bearer ${this.ctx.key}` } };
  }

  private oversized(): FuzzCase {
    const records = Array.from({ length: pick(this.r, [101, 500]) }, () => record(this.iuid(), 1));
    if (this.r() < 0.5) return this.ingest('oversized bodies', records);
    return { ...this.ingest('oversized bodies', [{ ...record(this.iuid(), 1), study_description: 'x'.repeat(300 * 1024) }]) };
  }

  private unknownRoute(): FuzzCase {
    const method = pick(this.r, ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
    const path = pick(this.r, ['/', '/api', '/api/v3/studies', '/api/v2/studies/../../etc/passwd', '/api/v2/centers/X/studies/1',
      `/api/v2/${encodeURIComponent(pick(this.r, SQL_META))}`, '/%', '/api/v2/studies%00', `/${'a'.repeat(5000)}`, '/healthz/x',
      '/api/v2/centers/A/reconcile', '/metrics?x=%', '/api/v1/register/1', '/openapi.json/..']);
    return { category: 'unknown routes and methods', method, path, headers: {} };
  }

  private badAuth(): FuzzCase {
    const headers = pick(this.r, [
      {}, { authorization: 'Bearer' }, { authorization: 'Bearer ' }, { authorization: `Basic ${this.ctx.key}` },
      { authorization: `Bearer ${this.ctx.key}x` }, { authorization: `Bearer ${'k'.repeat(8000)}` }, { authorization: `bearer  ${this.ctx.token}` },
      { authorization: `Bearer ${this.ctx.key} extra` }, { 'x-api-key': '' }, { 'x-api-key': `' OR 1=1 --` }, { authorization: 'Bearer %00' },
      { authorization: `Bearer ${this.ctx.token}` }, { 'x-api-key': this.ctx.key },
    ] as Record<string, string>[]);
    const target = pick(this.r, [`/api/v2/centers/${this.ctx.center}/studies`, `/api/v2/centers/${this.ctx.otherCenter}/studies`]);
    const c = this.ingest('bad or missing auth', [record(this.iuid(), 1)]);
    return { ...c, path: target, headers: { 'content-type': 'application/json', ...headers } };
  }

  private badCursor(): FuzzCase {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const cursor = pick(this.r, ['', '!!!', 'AAAA', b64('[]'), b64('["2020-01-01 00:00:00"]'), b64('["2020-01-01 00:00:00", -1]'),
      b64('["2020-01-01 00:00:00", 1e300]'), b64(`["' OR 1=1 --", 1]`), b64('{"a":1}'), b64('["9999-99-99 99:99:99", 1]'),
      b64('["2020-01-01 00:00:00", "1"]'), 'x'.repeat(250), b64('[null, null]'), b64('["2020-01-01 00:00:00", 1, 2]')]);
    return { category: 'bad cursors', method: 'GET', path: `/api/v2/studies?cursor=${encodeURIComponent(cursor)}`, headers: { authorization: `Bearer ${this.ctx.token}` } };
  }

  private badParams(): FuzzCase {
    const q = pick(this.r, ['limit=-1', 'limit=abc', 'limit=1e9', 'limit=', 'include_deleted=maybe', 'from=2020-13-45', 'to=20200101',
      'center=a&center=b', 'group_by=center&group_by=month', 'unknown=1', 'limit=1&limit=2', 'from=2021-01-02&to=2021-01-01', '%=%', '&&&']);
    const path = pick(this.r, ['/api/v2/studies', '/api/v2/stats', '/api/v2/patients/1/studies', '/api/v2/centers']);
    return { category: 'bad query parameters', method: 'GET', path: `${path}?${q}`, headers: { authorization: `Bearer ${this.ctx.token}` } };
  }

  private badEncoding(): FuzzCase {
    const c = this.ingest('bad content type or encoding', [record(this.iuid(), 1)]);
    const headers = pick<Record<string, string>>(this.r, [{ 'content-encoding': 'br' }, { 'content-encoding': 'deflate' }, { 'content-encoding': 'gzip, gzip' },
      { 'content-type': 'text/plain' }, { 'content-type': 'multipart/form-data; boundary=x' }, { 'content-type': 'application/x-www-form-urlencoded' }]);
    return { ...c, headers: { ...c.headers, ...headers } };
  }

  private legacy(): FuzzCase {
    const id = this.iuid();
    const body = pick(this.r, [`{"center": "${this.ctx.center}", "study_iuid": "${id}", "study_datetime": "yesterday"}`,
      `{"center": "${this.ctx.center}", "study_iuid": ${JSON.stringify(pick(this.r, SQL_META))}}`, `{"center": ["${this.ctx.center}"]}`,
      `{"center": "${this.ctx.center}", "study_iuid": "${id}", "study_series": "many"}`, 'center=A&study_iuid=1', '[]',
      `{"center": "${this.ctx.center}", "study_iuid": "${id}", "patient_id": "${'9'.repeat(300)}"}`]);
    return { category: 'legacy register', method: 'POST', path: '/api/v1/register', headers: { 'x-api-key': this.ctx.key }, body, iuids: [body.includes(id) ? id : null] };
  }

  next(): FuzzCase {
    const gens = [this.wrongTypes, this.wrongTypes, this.rejectedUpdate, this.badJson, this.hugeStrings, this.deepNesting, this.gzipCase,
      this.invalidUtf8, this.filterMeta, this.filterMeta, this.reconcileMeta, this.oversized, this.unknownRoute, this.badAuth,
      this.badCursor, this.badParams, this.badEncoding, this.legacy];
    return pick(this.r, gens).call(this);
  }
}
