import { BOOLEAN, STRING, type ConfigTree } from '../../../shared/config-checks.js';
import { HTTP_URL, POSITIVE_INT } from '../../config-formats.js';
import type { SourceConfig } from '../source-config.js';

const schema = {
  orthanc: {
    url: { doc: 'Orthanc base URL; "http://login:password@host:8042" is accepted.', format: HTTP_URL, default: 'http://127.0.0.1:8042', env: 'INDEXER_ORTHANC_URL' },
    username: { doc: 'Orthanc HTTP basic auth user.', format: STRING, default: '', env: 'INDEXER_ORTHANC_USERNAME' },
    password: { doc: 'Orthanc HTTP basic auth password (also INDEXER_ORTHANC_PASSWORD_FILE).', format: STRING, default: '', sensitive: true, env: 'INDEXER_ORTHANC_PASSWORD' },
    state_file: { doc: 'Where the Orthanc change-feed checkpoint is kept (written atomically).', format: STRING, default: 'indexer-state.json', env: 'INDEXER_ORTHANC_STATE_FILE' },
    new_study: { doc: 'Also react to NewStudy (sooner, possibly incomplete counts), not only StableStudy.', format: BOOLEAN, default: false, env: 'INDEXER_ORTHANC_NEW_STUDY' },
    max_list_bytes: {
      doc: 'Largest answer to the study listing (GET /studies, about 50 bytes per study) read from Orthanc, in bytes; every other Orthanc answer is capped at 16 MiB.',
      format: POSITIVE_INT,
      default: 256 * 1024 * 1024,
      env: 'INDEXER_ORTHANC_MAX_LIST_BYTES',
    },
  },
} satisfies ConfigTree;

/** Orthanc's keys: its REST API's address and login, and where its change-feed checkpoint is kept. */
export const orthancConfig = {
  name: 'orthanc',
  label: '"orthanc"',
  schema,
  after: 'http',
  notes: { 'http.timeout_ms': 'the whole-request limit of one Orthanc request' },
  secretFiles: { INDEXER_ORTHANC_PASSWORD_FILE: 'INDEXER_ORTHANC_PASSWORD' },
} as const satisfies SourceConfig<typeof schema>;
