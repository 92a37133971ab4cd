-- pacs-indexer: removes the capture objects from the PACS database.
-- Apply by hand with:   mysql pacsdb < uninstall.sql     (or: indexer uninstall)
-- Triggers go first, so no PACS write ever runs a trigger whose queue is already gone.
-- The legacy indexer's objects are not touched (a legacy-shaped study_service is kept).
-- Drop the triggers' definer account (or revoke its TRIGGER) only after this has run.

DROP TRIGGER IF EXISTS indexer_study_ai;
DROP TRIGGER IF EXISTS indexer_study_au;
DROP TRIGGER IF EXISTS indexer_study_ad;
DROP TRIGGER IF EXISTS indexer_patient_au;

-- Only our queue (it has a seq column) is dropped.
SET @indexer_ddl = (SELECT IF(SUM(COLUMN_NAME = 'seq') > 0, 'DROP TABLE study_service', 'DO 0')
  FROM information_schema.COLUMNS
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'study_service');
PREPARE indexer_stmt FROM @indexer_ddl;
EXECUTE indexer_stmt;
DEALLOCATE PREPARE indexer_stmt;

-- Only tables that exist are dropped (DROP TABLE IF EXISTS needs DROP even on a missing table, a
-- privilege a site that never ran the legacy indexer does not grant on indexer_legacy_queue).
SET @indexer_ddl = (SELECT IF(COUNT(*) > 0, 'DROP TABLE indexer_legacy_queue', 'DO 0')
  FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'indexer_legacy_queue');
PREPARE indexer_stmt FROM @indexer_ddl;
EXECUTE indexer_stmt;
DEALLOCATE PREPARE indexer_stmt;

SET @indexer_ddl = (SELECT IF(COUNT(*) > 0, 'DROP TABLE indexer_dead_letter', 'DO 0')
  FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'indexer_dead_letter');
PREPARE indexer_stmt FROM @indexer_ddl;
EXECUTE indexer_stmt;
DEALLOCATE PREPARE indexer_stmt;

SET @indexer_ddl = (SELECT IF(COUNT(*) > 0, 'DROP TABLE indexer_state', 'DO 0')
  FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'indexer_state');
PREPARE indexer_stmt FROM @indexer_ddl;
EXECUTE indexer_stmt;
DEALLOCATE PREPARE indexer_stmt;
