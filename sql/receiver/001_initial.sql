-- Receiver schema v1. Plain tables and indexes only: no triggers, procedures or cascading foreign
-- keys, so the same schema runs on TiDB or Vitess when one server is not enough.
-- Statements are separated by a semicolon at the end of a line (the migrator splits on it).

CREATE TABLE IF NOT EXISTS centers (
  id              INT NOT NULL AUTO_INCREMENT,
  code            VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name            VARCHAR(255) NULL,
  key_hash        BINARY(32) NOT NULL,
  enabled         TINYINT(1) NOT NULL DEFAULT 1,
  created_at      DATETIME(3) NOT NULL,
  key_rotated_at  DATETIME(3) NULL,
  last_seen       DATETIME(3) NULL,
  last_source_seq BIGINT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY centers_code (code),
  UNIQUE KEY centers_key_hash (key_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS read_tokens (
  id          INT NOT NULL AUTO_INCREMENT,
  name        VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  token_hash  BINARY(32) NOT NULL,
  created_at  DATETIME(3) NOT NULL,
  revoked_at  DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY read_tokens_name (name),
  UNIQUE KEY read_tokens_hash (token_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per (center, study_iuid). sort_at = study_datetime, or 1000-01-01 when unknown, so
-- keyset paging needs no NULL handling: undated studies sort last (oldest) in newest-first order.
CREATE TABLE IF NOT EXISTS studies (
  id                  BIGINT NOT NULL AUTO_INCREMENT,
  center_id           INT NOT NULL,
  study_iuid          VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  source_seq          BIGINT NOT NULL,
  deleted             TINYINT(1) NOT NULL DEFAULT 0,
  study_pk            BIGINT NULL,
  patient_pk          BIGINT NULL,
  patient_id          VARCHAR(255) NULL,
  patient_key         VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  patient_id_issuer   VARCHAR(255) NULL,
  patient_name        VARCHAR(255) NULL,
  name_key            VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  patient_birthdate   DATE NULL,
  patient_sex         VARCHAR(16) NULL,
  study_datetime      DATETIME NULL,
  sort_at             DATETIME NOT NULL,
  study_description   VARCHAR(255) NULL,
  study_modality      VARCHAR(255) NULL,
  modalities          VARCHAR(255) NULL,
  study_series        INT NOT NULL DEFAULT 0,
  study_instances     INT NOT NULL DEFAULT 0,
  accession_no        VARCHAR(64) NULL,
  study_id            VARCHAR(64) NULL,
  referring_physician VARCHAR(255) NULL,
  received_at         DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  -- study_iuid first: the identity key also serves study_iuid lookups across centres.
  UNIQUE KEY studies_identity (study_iuid, center_id),
  KEY studies_patient (patient_key, sort_at, id),
  KEY studies_center_date (center_id, sort_at, id),
  KEY studies_date (sort_at, id),
  KEY studies_accession (accession_no),
  KEY studies_name (name_key, sort_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A study's modalities, one row each, with its sort key copied so `modality=` pages off an index.
CREATE TABLE IF NOT EXISTS study_modalities (
  study_id  BIGINT NOT NULL,
  modality  VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  sort_at   DATETIME NOT NULL,
  PRIMARY KEY (study_id, modality),
  KEY study_modalities_modality (modality, sort_at, study_id)
) ENGINE=InnoDB DEFAULT CHARSET=ascii;

CREATE TABLE IF NOT EXISTS read_audit (
  id            BIGINT NOT NULL AUTO_INCREMENT,
  at            DATETIME(3) NOT NULL,
  token_name    VARCHAR(128) NOT NULL,
  route         VARCHAR(128) NOT NULL,
  parameters    TEXT NULL,
  result_count  INT NOT NULL,
  status        SMALLINT NOT NULL,
  PRIMARY KEY (id),
  KEY read_audit_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
