/**
 * Schema 4: how sure a commit's link to its handoff is, and short message ids. A short id is the tail of
 * a ULID (its random part varies between ids made in the same millisecond, unlike the time prefix); the
 * index on the last 7 characters finds the messages a short id may name, and settings.short_id_length
 * is the tail length that keeps every message's short id unique. Presence rows remember when their process
 * started, so that a reused pid does not make a dead agent look live.
 */
export default `
ALTER TABLE attributions ADD COLUMN link TEXT;
-- The files a commit changed (JSON array), to find the commits a squash may have been made from.
ALTER TABLE attributions ADD COLUMN files TEXT;

-- A commit's parent count and commit time (ms), to tell which unexplained commits may be squashes.
ALTER TABLE commit_facts ADD COLUMN parents INTEGER;
ALTER TABLE commit_facts ADD COLUMN committed_at INTEGER;

-- When a live process started, so that a reused pid is not taken for it.
ALTER TABLE presence ADD COLUMN proc_start TEXT;

CREATE INDEX messages_tail ON messages (substr(id, 20));

-- When the loop guard last told an agent about its exchange with another (local; once per episode).
CREATE TABLE loop_notices (
  agent    TEXT NOT NULL,
  other    TEXT NOT NULL,
  notified INTEGER NOT NULL,
  PRIMARY KEY (agent, other)
) WITHOUT ROWID;

-- Messages an agent's end-of-turn hook has already told it about (local; at most one nudge per message).
CREATE TABLE nudges (
  agent      TEXT NOT NULL,
  message_id TEXT NOT NULL,
  at         INTEGER NOT NULL,
  PRIMARY KEY (agent, message_id)
) WITHOUT ROWID;

-- Chains not indexed past a commit: an event that fails the schema (quarantine) or is dated too far in the
-- future (retry_after: when to try again). tip: the chain's ref when it was judged.
CREATE TABLE quarantine (
  chain       TEXT PRIMARY KEY,
  commit_id   TEXT NOT NULL,
  reason      TEXT NOT NULL,
  tip         TEXT NOT NULL,
  retry_after INTEGER
) WITHOUT ROWID;

-- Events whose id was already taken by an indexed event (the first indexed wins; these are reported).
CREATE TABLE duplicates (
  id        TEXT NOT NULL,
  chain     TEXT NOT NULL,
  commit_id TEXT NOT NULL,
  PRIMARY KEY (id, commit_id)
) WITHOUT ROWID;

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
-- Messages indexed before this version were not checked as they arrived: where two of them share their
-- last 7 characters, print 12 (60 random bits) from now on.
INSERT INTO settings (key, value)
  SELECT 'short_id_length', '12' WHERE EXISTS (SELECT 1 FROM messages GROUP BY substr(id, 20) HAVING count(*) > 1);
`;
