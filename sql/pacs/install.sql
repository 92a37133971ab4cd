-- pacs-indexer capture objects, schema version 1.
-- Installs or upgrades, in the PACS database itself, the change queue that the indexer agent reads
-- and the triggers that fill it. Idempotent: run it again to repair or upgrade in place.
-- Apply by hand with:   mysql pacsdb < install.sql     (or: indexer install)
-- Runs on MySQL 5.5+ and MariaDB: no JSON, no CTEs, no window functions, one trigger per table and event.
-- Triggers run with the privileges of whoever applies this script (their DEFINER), checked each time
-- one fires: that account must keep TRIGGER and SELECT on study and patient (without TRIGGER every
-- PACS write on them fails, error 1142) and INSERT on study_service (without it every change is
-- silently lost) for as long as the triggers exist. Never drop that account before uninstalling
-- (error 1449 on every PACS write). `indexer check` verifies all of this.
-- Only tables that exist are touched beyond the indexer's own three: a site that never ran the
-- legacy indexer needs no privilege on indexer_legacy_queue.

-- The agent's checkpoints and the schema version of these objects.
CREATE TABLE IF NOT EXISTS indexer_state (
  name       VARCHAR(64) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  value      TEXT CHARACTER SET utf8 NULL,
  updated_at DATETIME NULL
) ENGINE=InnoDB;

-- Refuse to downgrade objects installed by a newer agent: the mysql client stops at this error.
SET @indexer_ddl = (SELECT IF(COUNT(*) > 0,
  'SELECT * FROM indexer_schema_is_newer_than_this_script', 'DO 0')
  FROM indexer_state WHERE name = 'schema_version' AND CAST(value AS UNSIGNED) > 1);
PREPARE indexer_stmt FROM @indexer_ddl;
EXECUTE indexer_stmt;
DEALLOCATE PREPARE indexer_stmt;

-- The legacy indexer's trigger writes study_service(study_pk) on every new study; it must go before
-- the queue changes shape, or the PACS's own INSERT would fail.
DROP TRIGGER IF EXISTS indexer_process;

-- A legacy queue (no seq column) is renamed aside; its studies are re-queued below.
SET @indexer_ddl = (SELECT IF(COUNT(*) > 0 AND SUM(c.COLUMN_NAME = 'seq') = 0,
  'RENAME TABLE study_service TO indexer_legacy_queue', 'DO 0')
  FROM information_schema.COLUMNS c
  WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME = 'study_service');
PREPARE indexer_stmt FROM @indexer_ddl;
EXECUTE indexer_stmt;
DEALLOCATE PREPARE indexer_stmt;

-- The change queue: one row per change, seq is the queue position.
CREATE TABLE IF NOT EXISTS study_service (
  seq        BIGINT NOT NULL AUTO_INCREMENT,
  study_pk   BIGINT NOT NULL,
  op         CHAR(1) CHARACTER SET ascii NOT NULL,
  study_iuid VARBINARY(255) NULL,
  queued_at  DATETIME NULL,
  PRIMARY KEY (seq),
  KEY study_service_study_pk (study_pk)
) ENGINE=InnoDB DEFAULT CHARSET=latin1;

-- Upgrades from pre-release queues that lack the later columns.
SET @indexer_ddl = (SELECT IF(COUNT(*) = 0,
  'ALTER TABLE study_service ADD COLUMN study_iuid VARBINARY(255) NULL AFTER op', 'DO 0')
  FROM information_schema.COLUMNS
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'study_service' AND COLUMN_NAME = 'study_iuid');
PREPARE indexer_stmt FROM @indexer_ddl;
EXECUTE indexer_stmt;
DEALLOCATE PREPARE indexer_stmt;

SET @indexer_ddl = (SELECT IF(COUNT(*) = 0,
  'ALTER TABLE study_service ADD COLUMN queued_at DATETIME NULL AFTER study_iuid', 'DO 0')
  FROM information_schema.COLUMNS
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'study_service' AND COLUMN_NAME = 'queued_at');
PREPARE indexer_stmt FROM @indexer_ddl;
EXECUTE indexer_stmt;
DEALLOCATE PREPARE indexer_stmt;

-- Records the receiver rejected, with its reason; they do not block the others.
CREATE TABLE IF NOT EXISTS indexer_dead_letter (
  id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  study_pk    BIGINT NULL,
  study_iuid  VARBINARY(255) NULL,
  source_seq  BIGINT NOT NULL,
  reason      VARCHAR(1000) CHARACTER SET utf8 NOT NULL,
  record      MEDIUMTEXT CHARACTER SET utf8 NULL,
  created_at  DATETIME NOT NULL,
  KEY indexer_dead_letter_iuid (study_iuid)
) ENGINE=InnoDB;

-- Triggers. Each body starts with a CONTINUE HANDLER: if the queue cannot be written (dropped,
-- locked, disk full) the PACS's own statement still succeeds; `indexer check` finds the gap and
-- reconciliation repairs it. Dropped and recreated so an upgrade replaces older bodies.
DROP TRIGGER IF EXISTS indexer_study_ai;
DROP TRIGGER IF EXISTS indexer_study_au;
DROP TRIGGER IF EXISTS indexer_study_ad;
DROP TRIGGER IF EXISTS indexer_patient_au;

DELIMITER ;;

CREATE TRIGGER indexer_study_ai AFTER INSERT ON study FOR EACH ROW
BEGIN
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;
  INSERT INTO study_service (study_pk, op, queued_at) VALUES (NEW.pk, 'I', NOW());
END;;

-- Only changes to columns the study record carries are queued: dcm4chee's consistency check
-- (checked_time) and dataset rewrites (study_attrs) alone queue nothing.
CREATE TRIGGER indexer_study_au AFTER UPDATE ON study FOR EACH ROW
BEGIN
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;
  IF NOT (OLD.patient_fk <=> NEW.patient_fk)
     OR NOT (OLD.study_iuid <=> NEW.study_iuid)
     OR NOT (OLD.study_id <=> NEW.study_id)
     OR NOT (OLD.study_datetime <=> NEW.study_datetime)
     OR NOT (OLD.accession_no <=> NEW.accession_no)
     OR NOT (OLD.ref_physician <=> NEW.ref_physician)
     OR NOT (OLD.study_desc <=> NEW.study_desc)
     OR NOT (OLD.mods_in_study <=> NEW.mods_in_study)
     OR NOT (OLD.num_series <=> NEW.num_series)
     OR NOT (OLD.num_instances <=> NEW.num_instances) THEN
    -- A corrected Study Instance UID retires the old identity at the receiver: queue its tombstone.
    IF NOT (OLD.study_iuid <=> NEW.study_iuid) THEN
      INSERT INTO study_service (study_pk, op, study_iuid, queued_at) VALUES (OLD.pk, 'D', OLD.study_iuid, NOW());
    END IF;
    INSERT INTO study_service (study_pk, op, queued_at) VALUES (NEW.pk, 'U', NOW());
  END IF;
END;;

-- The row is gone afterwards: the queue keeps its iuid for the tombstone.
CREATE TRIGGER indexer_study_ad AFTER DELETE ON study FOR EACH ROW
BEGIN
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;
  INSERT INTO study_service (study_pk, op, study_iuid, queued_at) VALUES (OLD.pk, 'D', OLD.study_iuid, NOW());
END;;

-- A patient change re-queues the patient's studies and those of patients merged into it. A cursor
-- is a consistent non-locking read; INSERT ... SELECT would take shared locks on study rows.
CREATE TRIGGER indexer_patient_au AFTER UPDATE ON patient FOR EACH ROW
BEGIN
  DECLARE indexer_done INT DEFAULT 0;
  DECLARE indexer_study_pk BIGINT;
  DECLARE indexer_studies CURSOR FOR
    SELECT s.pk FROM study s WHERE s.patient_fk = NEW.pk
    UNION ALL
    SELECT s.pk FROM patient p JOIN study s ON s.patient_fk = p.pk WHERE p.merge_fk = NEW.pk;
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET indexer_done = 1;
  -- Any failure ends the loop: one failed queue write is enough to report the gap.
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION SET indexer_done = 1;
  IF NOT (OLD.pat_id <=> NEW.pat_id)
     OR NOT (OLD.pat_id_issuer <=> NEW.pat_id_issuer)
     OR NOT (OLD.pat_name <=> NEW.pat_name)
     OR NOT (OLD.pat_birthdate <=> NEW.pat_birthdate)
     OR NOT (OLD.pat_sex <=> NEW.pat_sex)
     OR NOT (OLD.merge_fk <=> NEW.merge_fk) THEN
    OPEN indexer_studies;
    indexer_loop: LOOP
      FETCH indexer_studies INTO indexer_study_pk;
      IF indexer_done = 1 THEN
        LEAVE indexer_loop;
      END IF;
      INSERT INTO study_service (study_pk, op, queued_at) VALUES (indexer_study_pk, 'U', NOW());
    END LOOP;
    CLOSE indexer_studies;
  END IF;
END;;

DELIMITER ;

-- Studies still queued by the legacy indexer are re-queued as updates, so the next sync sends them.
SET @indexer_ddl = (SELECT IF(COUNT(*) > 0,
  'INSERT INTO study_service (study_pk, op, queued_at) SELECT study_pk, ''U'', NOW() FROM indexer_legacy_queue WHERE study_pk IS NOT NULL ORDER BY study_pk',
  'DO 0')
  FROM information_schema.TABLES
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'indexer_legacy_queue');
PREPARE indexer_stmt FROM @indexer_ddl;
EXECUTE indexer_stmt;
DEALLOCATE PREPARE indexer_stmt;

SET @indexer_ddl = (SELECT IF(COUNT(*) > 0, 'DROP TABLE indexer_legacy_queue', 'DO 0')
  FROM information_schema.TABLES
  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'indexer_legacy_queue');
PREPARE indexer_stmt FROM @indexer_ddl;
EXECUTE indexer_stmt;
DEALLOCATE PREPARE indexer_stmt;

INSERT INTO indexer_state (name, value, updated_at) VALUES ('schema_version', '1', NOW())
  ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at);
