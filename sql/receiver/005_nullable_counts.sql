-- Receiver schema v5: study_series and study_instances are "integer, or null when the source cannot
-- tell" (the contract): a C-FIND source answers no counts, and a made-up 0 would say "no series".
-- Existing rows keep their counts (a 0 stored before stays 0: it cannot be told from a real one).
-- Plain ALTER only (TiDB/Vitess compatible). One atomic ALTER, idempotent: a re-run after a crash
-- modifies the columns to what they already are. On a large table it rebuilds the table (online
-- on MySQL 5.6+/MariaDB 10.0+: reads and ingest go on meanwhile).

ALTER TABLE studies
  MODIFY COLUMN study_series INT NULL DEFAULT NULL,
  MODIFY COLUMN study_instances INT NULL DEFAULT NULL;
