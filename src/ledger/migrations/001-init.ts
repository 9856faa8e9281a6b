/** Schema 1: events, witnesses, chain tips, agents, messages, recipients, presence. */
export default `
CREATE TABLE chains (
  clone_id   TEXT PRIMARY KEY,
  tip        TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE events (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT NOT NULL UNIQUE,
  chain         TEXT NOT NULL,
  commit_id     TEXT NOT NULL UNIQUE,
  parent_commit TEXT,
  type          TEXT NOT NULL,
  ts            TEXT NOT NULL,
  clock         INTEGER NOT NULL,
  author        TEXT NOT NULL,
  json          TEXT NOT NULL
);
CREATE INDEX events_chain_parent ON events (chain, parent_commit);
CREATE INDEX events_type_clock ON events (type, clock, id);

-- Every witness: event <event_id> saw chain <chain> at <tip> (docs/ledger-format.md, "Verify").
CREATE TABLE witnesses (
  event_id TEXT NOT NULL,
  chain    TEXT NOT NULL,
  tip      TEXT NOT NULL,
  PRIMARY KEY (event_id, chain)
) WITHOUT ROWID;
CREATE INDEX witnesses_chain ON witnesses (chain);

-- The newest witness each chain recorded of each other chain (what the next event need not repeat).
CREATE TABLE last_witness (
  witness TEXT NOT NULL,
  chain   TEXT NOT NULL,
  tip     TEXT NOT NULL,
  clock   INTEGER NOT NULL,
  PRIMARY KEY (witness, chain)
) WITHOUT ROWID;

CREATE TABLE agents (
  name       TEXT PRIMARY KEY,
  runtime    TEXT,
  team       TEXT,
  role       TEXT,
  status     TEXT NOT NULL,
  joined_at  TEXT,
  left_at    TEXT,
  last_seen  TEXT
);

CREATE TABLE messages (
  id         TEXT PRIMARY KEY,
  thread     TEXT NOT NULL,
  reply_to   TEXT,
  sender     TEXT NOT NULL,
  address    TEXT NOT NULL,
  recipients TEXT NOT NULL,
  kind       TEXT NOT NULL,
  priority   TEXT NOT NULL,
  ts         TEXT NOT NULL,
  clock      INTEGER NOT NULL,
  body       TEXT NOT NULL,
  commit_id  TEXT NOT NULL,
  diff_base  TEXT,
  diff_tree  TEXT,
  diff_files INTEGER,
  excluded   TEXT
);
CREATE INDEX messages_thread ON messages (thread, clock, id);
CREATE INDEX messages_reply_to ON messages (reply_to);
CREATE INDEX messages_clock ON messages (clock, id);

CREATE TABLE recipients (
  message_id TEXT NOT NULL,
  agent      TEXT NOT NULL,
  status     INTEGER NOT NULL DEFAULT 0,
  read_at    TEXT,
  acked_at   TEXT,
  PRIMARY KEY (message_id, agent)
) WITHOUT ROWID;
CREATE INDEX recipients_agent ON recipients (agent, status);

CREATE TABLE presence (
  agent      TEXT NOT NULL,
  host       TEXT NOT NULL,
  pid        INTEGER NOT NULL,
  command    TEXT NOT NULL,
  started_at TEXT NOT NULL,
  PRIMARY KEY (agent, host, pid)
);
`;
