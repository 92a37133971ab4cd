-- Receiver schema v6: the DICOM workstations allowed to query the index over DIMSE (C-FIND SCP,
-- docs/dimse.md "The index as a DICOM query service"). A calling AE title is allowed only when it is listed
-- here, and acts as the read token it names: the audit records that token's name (and the AE
-- title), a revoked token's AE title is refused like an unknown one. `host`: when set, the only
-- peer address (IPv4 or IPv6, as text) the AE title is accepted from.
-- AE titles are case-sensitive (PS3.5 §6.2): ascii_bin. No foreign key (TiDB/Vitess compatible):
-- token_id is read_tokens.id, checked by the CLI when the row is written and joined at lookup.
-- Plain CREATE only; re-runnable (IF NOT EXISTS).

CREATE TABLE IF NOT EXISTS dicom_clients (
  id          INT NOT NULL AUTO_INCREMENT,
  aet         VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  token_id    INT NOT NULL,
  host        VARCHAR(45) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created_at  DATETIME(3) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY dicom_clients_aet (aet),
  KEY dicom_clients_token (token_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
