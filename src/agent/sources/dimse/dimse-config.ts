import { BOOLEAN, defineFormat, intFormat, STRING, type ConfigTree } from '../../../shared/config-checks.js';
import { isCalendarDate } from '../../../shared/record-values.js';
import { COUNT, NON_EMPTY_STRING, POSITIVE_INT, TCP_PORT } from '../../config-formats.js';
import type { SourceConfig } from '../source-config.js';

const AE_TEXT = 'an AE title: 1 to 16 ASCII characters without "\\", not only spaces';
/** Empty: not set yet (the called AE has no sensible default; the source refuses to open). */
const AE_TITLE = defineFormat('ae-title', {
  expected: AE_TEXT,
  check: (v) => (v === '' || (typeof v === 'string' && /^(?! *$)[\x20-\x5b\x5d-\x7e]{1,16}$/.test(v)) ? null : AE_TEXT),
});

const DATE_TEXT = 'a date YYYY-MM-DD from 1900-01-01';
const HISTORY_DATE = defineFormat('history-date', {
  expected: DATE_TEXT,
  check(v) {
    const m = typeof v === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(v) : null;
    return m && Number(m[1]) >= 1900 && isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3])) ? null : DATE_TEXT;
  },
});

const DAYS = intFormat(1, 36_600, 'a whole number of days');
const MS = intFormat(1, 86_400_000, 'a whole number of milliseconds');

const schema = {
  dimse: {
    host: { doc: "The PACS's DICOM host name or address.", format: NON_EMPTY_STRING, default: '127.0.0.1', env: 'INDEXER_DIMSE_HOST' },
    port: { doc: "The PACS's DICOM port (often 104, 11112 or 4242).", format: TCP_PORT, default: 104, env: 'INDEXER_DIMSE_PORT' },
    called_aet: { doc: "The PACS's AE title (required).", format: AE_TITLE, default: '', env: 'INDEXER_DIMSE_CALLED_AET' },
    calling_aet: { doc: "The agent's AE title, as declared in the PACS (docs/dimse.md).", format: AE_TITLE, default: 'PACSINDEXER', env: 'INDEXER_DIMSE_CALLING_AET' },
    tls: {
      enabled: { doc: 'DICOM over TLS (the PACS must offer it on this port).', format: BOOLEAN, default: false, env: 'INDEXER_DIMSE_TLS' },
      ca_file: { doc: "PEM file of the CA(s) that signed the PACS's certificate; empty: the system's CAs.", format: STRING, default: '', env: 'INDEXER_DIMSE_TLS_CA_FILE' },
      cert_file: { doc: "PEM file of the agent's client certificate, when the PACS asks for one (with key_file).", format: STRING, default: '', env: 'INDEXER_DIMSE_TLS_CERT_FILE' },
      key_file: { doc: "PEM file of the client certificate's private key.", format: STRING, default: '', env: 'INDEXER_DIMSE_TLS_KEY_FILE' },
    },
    connect_timeout_ms: { doc: 'Limit to open the TCP connection to the PACS.', format: MS, default: 10_000, env: 'INDEXER_DIMSE_CONNECT_TIMEOUT_MS' },
    query_timeout_ms: { doc: 'Limit of one whole query: association, every answer, release.', format: MS, default: 120_000, env: 'INDEXER_DIMSE_QUERY_TIMEOUT_MS' },
    pause_ms: { doc: 'Pause between two queries (one association at a time, always).', format: COUNT, default: 100, env: 'INDEXER_DIMSE_PAUSE_MS' },
    max_queries_per_pass: {
      doc: 'Most queries one sync pass sends; the sweeps resume where it stopped (the initial crawl is paced by pause_ms only).',
      format: POSITIVE_INT, default: 400, env: 'INDEXER_DIMSE_MAX_QUERIES_PER_PASS',
    },
    max_answers: {
      doc: "The PACS's cap on answers to one query, when known (Horos 10000 by default); 0: unknown, learned from a cut answer.",
      format: COUNT, default: 0, env: 'INDEXER_DIMSE_MAX_ANSWERS',
    },
    hot_days: { doc: 'Days read on every sync pass: today and the days before it.', format: DAYS, default: 3, env: 'INDEXER_DIMSE_HOT_DAYS' },
    warm_days: { doc: 'Days (from today back) of the warm sweep.', format: DAYS, default: 90, env: 'INDEXER_DIMSE_WARM_DAYS' },
    warm_every_minutes: { doc: 'How often the warm sweep starts.', format: POSITIVE_INT, default: 360, env: 'INDEXER_DIMSE_WARM_EVERY_MINUTES' },
    cold_every_days: { doc: 'How often the cold sweep of the whole history starts.', format: DAYS, default: 7, env: 'INDEXER_DIMSE_COLD_EVERY_DAYS' },
    history_from: { doc: 'The oldest study date the crawl and the cold sweep read.', format: HISTORY_DATE, default: '1985-01-01', env: 'INDEXER_DIMSE_HISTORY_FROM' },
    max_span_days: {
      doc: 'Most days asked in one query by the crawl and the sweeps (quiet stretches are asked together, busy ones day by day).',
      format: intFormat(1, 366, 'a whole number of days'), default: 128, env: 'INDEXER_DIMSE_MAX_SPAN_DAYS',
    },
    state_file: { doc: "Where the agent's crawl checkpoints are kept (written atomically).", format: NON_EMPTY_STRING, default: 'indexer-dimse-state.json', env: 'INDEXER_DIMSE_STATE_FILE' },
  },
} satisfies ConfigTree;

/** A PACS queried over the DICOM network: where it is, who the agent is, how hard it may be asked. */
export const dimseConfig = {
  name: 'dimse',
  label: '"dimse" (any PACS over DICOM C-FIND)',
  schema,
  after: 'http',
} as const satisfies SourceConfig<typeof schema>;
