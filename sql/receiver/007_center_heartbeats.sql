-- Receiver schema v7: the agents' heartbeats (docs/receiver.md, "Agent heartbeats"). Counts,
-- codes and timestamps only, never patient data: the route's schema admits nothing else.
-- center_heartbeats: the latest per centre (GET /api/v2/centers, /metrics); history: every one,
-- pruned to RECEIVER_HEARTBEAT_HISTORY_DAYS by the receiver. No foreign key (TiDB/Vitess
-- compatible): center_id is centers.id. Plain CREATE only; re-runnable (IF NOT EXISTS).

CREATE TABLE IF NOT EXISTS center_heartbeats (
  center_id           INT NOT NULL,
  received_at         DATETIME(3) NOT NULL,
  source_kind         VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  agent_version       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  backlog             BIGINT NULL,
  oldest_unsent_age_s BIGINT NULL,
  dead_letters        BIGINT NULL,
  capture_ok          TINYINT NULL,
  incomplete_windows  BIGINT NULL,
  body                TEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (center_id)
) ENGINE=InnoDB DEFAULT CHARSET=ascii;

CREATE TABLE IF NOT EXISTS center_heartbeat_history (
  id                  BIGINT NOT NULL AUTO_INCREMENT,
  center_id           INT NOT NULL,
  received_at         DATETIME(3) NOT NULL,
  body                TEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (id),
  KEY center_heartbeat_history_center (center_id, received_at),
  KEY center_heartbeat_history_received (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=ascii;
