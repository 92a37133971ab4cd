import { STRING, type ConfigTree } from '../../../shared/config-checks.js';
import { NON_EMPTY_STRING, OPTIONAL_STRING, TCP_PORT } from '../../config-formats.js';
import type { SourceConfig } from '../source-config.js';

/** The legacy client's config.json `database` section, unchanged, so legacy files load. */
const schema = {
  database: {
    host: { doc: 'PACS database host.', format: NON_EMPTY_STRING, default: '127.0.0.1', env: 'INDEXER_DB_HOST' },
    port: { doc: 'PACS database port.', format: TCP_PORT, default: 3306, env: 'INDEXER_DB_PORT' },
    socket: {
      doc: 'Unix socket path of the PACS database; when set, host and port are not used.',
      format: OPTIONAL_STRING,
      default: null as string | null,
      nullable: true,
      env: 'INDEXER_DB_SOCKET',
    },
    user: { doc: 'PACS database user (see the README for its GRANTs).', format: NON_EMPTY_STRING, default: 'indexer', env: 'INDEXER_DB_USER' },
    password: { doc: 'PACS database password (also INDEXER_DB_PASSWORD_FILE).', format: STRING, default: '', sensitive: true, env: 'INDEXER_DB_PASSWORD' },
    name: { doc: 'PACS database name.', format: NON_EMPTY_STRING, default: 'pacsdb', env: 'INDEXER_DB_NAME' },
  },
} satisfies ConfigTree;

/** dcm4chee 2.x's keys: its MySQL pacsdb. */
export const dcm4cheeConfig = {
  name: 'dcm4chee',
  label: '"dcm4chee" (the 2.x MySQL pacsdb)',
  schema,
  after: 'server',
  secretFiles: { INDEXER_DB_PASSWORD_FILE: 'INDEXER_DB_PASSWORD' },
} as const satisfies SourceConfig<typeof schema>;
