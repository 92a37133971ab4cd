-- pacs-indexer: removes the capture objects from the PACS database.
-- Apply by hand with:   mysql pacsdb < uninstall.sql     (or: indexer uninstall)
-- Triggers go first, so no PACS write ever runs a trigger whose queue is already gone.
-- The legacy indexer's objects are not touched (a legacy-shaped study_service is kept).

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

DROP TABLE IF EXISTS indexer_legacy_queue;
DROP TABLE IF EXISTS indexer_dead_letter;
DROP TABLE IF EXISTS indexer_state;
