-- Receiver schema v2: reconciliation fingerprints, exact ingest counts without locking reads, and
-- per-centre counters so /api/v2/centers does not count millions of rows per request.
-- Plain ALTER/CREATE only (TiDB/Vitess compatible). Re-runnable: the migrator treats "column/index
-- already exists" as done, and the backfill recomputes from scratch.

-- content_hash: the agent's fingerprint of the record (never recomputed here); digest: its 60-bit
-- integer form (hashDigest), BIT_XOR-ed per day by the reconcile endpoint. NULL when absent.
ALTER TABLE studies ADD COLUMN content_hash CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL;

ALTER TABLE studies ADD COLUMN digest BIGINT NULL;

-- write_id: a random number per ingest transaction, stamped on the rows that transaction changed,
-- so it can tell afterwards, without a locking pre-read, which rows it won. prev_deleted: the row's
-- `deleted` before that change (NULL: the transaction inserted the row), for the live counters.
ALTER TABLE studies ADD COLUMN write_id BIGINT NULL;

ALTER TABLE studies ADD COLUMN prev_deleted TINYINT NULL;

-- Live (not deleted) studies, last contact and highest source_seq per centre, split over a few
-- slots so concurrent batches of one centre rarely wait on the same row; readers sum the slots.
-- Maintained in the ingest transaction itself, so it is exact.
CREATE TABLE IF NOT EXISTS center_counts (
  center_id       INT NOT NULL,
  slot            TINYINT NOT NULL,
  live            BIGINT NOT NULL DEFAULT 0,
  last_seen       DATETIME(3) NULL,
  last_source_seq BIGINT NULL,
  PRIMARY KEY (center_id, slot)
) ENGINE=InnoDB DEFAULT CHARSET=ascii;

DELETE FROM center_counts;

INSERT INTO center_counts (center_id, slot, live, last_seen, last_source_seq)
SELECT c.id, 0, (SELECT COUNT(*) FROM studies s WHERE s.center_id = c.id AND s.deleted = 0), c.last_seen, c.last_source_seq
FROM centers c;

-- Name-prefix pages pick their ids from this index alone: the tombstone filter and the sort key
-- are in it (the primary key id is implicitly), so no row is read until the page is chosen.
ALTER TABLE studies DROP INDEX studies_name, ADD INDEX studies_name (name_key, deleted, sort_at);
