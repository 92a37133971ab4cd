import { defineConfig } from 'vitest/config';

/**
 * Unit tests need no service: they run with no database (`npm run test:unit`). Everything else is
 * an integration test against real services (MariaDB/MySQL from INDEXER_TEST_MYSQL_URL or
 * testcontainers, a real Orthanc, DCMTK, the built CLIs), and fails naming the one it lacks.
 */
const UNIT = [
  'test/shared/**/*.test.ts',
  'test/structure/**/*.test.ts',
  'test/extras/**/*.test.ts',
  'test/agent/config.test.ts',
  'test/agent/config-docs.test.ts',
  'test/agent/http/**/*.test.ts',
  'test/agent/pipeline/progress.test.ts',
  'test/agent/reconcile/day-compare.test.ts',
  'test/agent/sources/source-boundary.test.ts',
  'test/agent/sources/dcm4chee/sql-script.test.ts',
  'test/agent/sources/dcm4chee/study-mapper.test.ts',
  'test/agent/sources/dcm4chee/text-decode.test.ts',
  'test/agent/sources/file-state/dead-letter-file.test.ts',
  'test/agent/sources/orthanc/state-file.test.ts',
  'test/agent/sources/orthanc/study-mapping.test.ts',
  'test/receiver/config.test.ts',
  'test/receiver/config-docs.test.ts',
  'test/receiver/json-structure.test.ts',
  'test/receiver/connection-group.test.ts',
  'test/receiver/integer-fields.test.ts',
  'test/receiver/dicomweb/qido-dates.test.ts',
  'test/receiver/dicomweb/qido-text.test.ts',
  'test/receiver/dicomweb/qido-params.test.ts',
  'test/receiver/dicomweb/qido-centers.test.ts',
  'test/receiver/dicomweb/dicom-json.test.ts',
  'test/receiver/dicomweb/dicomweb-http.test.ts',
  'test/receiver/fhir/fhir-values.test.ts',
  'test/receiver/fhir/fhir-params.test.ts',
  'test/receiver/fhir/fhir-resources.test.ts',
  'test/agent/sources/dimse/study-answer.test.ts',
  'test/agent/sources/dimse/study-keys.test.ts',
  'test/agent/sources/dimse/pass-plan.test.ts',
  'test/agent/sources/dimse/outcome-queue.test.ts',
  'test/agent/sources/dimse/day-check.test.ts',
  'test/agent/sources/dimse/dimse-state.test.ts',
];

// Integration tests share one MariaDB on a 2-core machine: each file gets its own database,
// files run in parallel processes, a test may take seconds (real servers, real HTTP).
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT, globalSetup: ['test/helpers/global-setup.ts'] },
      },
    ],
  },
});
