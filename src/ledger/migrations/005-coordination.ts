/**
 * Schema 5: coordination. Claim, task and reservation events are kept as they came; who holds a key is
 * folded from them in causal order (ledger/coordination.ts), so every clone agrees whatever order it
 * indexed chains in. An agent's status note, and a full-text index of messages and attributed commits.
 */
export default `
CREATE TABLE claim_events (
  id         TEXT PRIMARY KEY,
  key        TEXT NOT NULL,
  action     TEXT NOT NULL,
  agent      TEXT NOT NULL,
  clone      TEXT NOT NULL,
  clock      INTEGER NOT NULL,
  ts         TEXT NOT NULL,
  expires    TEXT,
  ttl_ms     INTEGER,
  host       TEXT,
  pid        INTEGER,
  proc_start TEXT,
  from_agent TEXT,
  reason     TEXT,
  remote     TEXT
);
CREATE INDEX claim_events_key ON claim_events (key, clock, id);

CREATE TABLE task_events (
  id         TEXT PRIMARY KEY,
  message_id TEXT NOT NULL,
  state      TEXT NOT NULL,
  agent      TEXT NOT NULL,
  clock      INTEGER NOT NULL,
  ts         TEXT NOT NULL
);
CREATE INDEX task_events_message ON task_events (message_id, clock, id);

CREATE TABLE reservation_events (
  id         TEXT PRIMARY KEY,
  action     TEXT NOT NULL,
  agent      TEXT NOT NULL,
  patterns   TEXT NOT NULL,
  exclusive  INTEGER NOT NULL,
  clock      INTEGER NOT NULL,
  ts         TEXT NOT NULL,
  expires    TEXT,
  host       TEXT,
  pid        INTEGER,
  proc_start TEXT,
  reason     TEXT
);
CREATE INDEX reservation_events_clock ON reservation_events (clock, id);

ALTER TABLE agents ADD COLUMN note TEXT;
ALTER TABLE agents ADD COLUMN note_ts TEXT;

-- Notices about claims (lost to an earlier one, taken over) an agent has been shown (local).
CREATE TABLE claim_notices (
  event_id TEXT NOT NULL,
  agent    TEXT NOT NULL,
  PRIMARY KEY (event_id, agent)
) WITHOUT ROWID;

-- Full text: message bodies (with their thread's subject and attached file names) and attributed commits.
CREATE VIRTUAL TABLE search USING fts5(
  body, subject, files,
  kind UNINDEXED, ref UNINDEXED, thread UNINDEXED, author UNINDEXED, ts UNINDEXED, clock UNINDEXED,
  tokenize = 'unicode61'
);
`;
