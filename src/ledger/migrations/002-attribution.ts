/** Schema 2: which agent made each commit, how commits were rewritten, and review verdicts. */
export default `
CREATE TABLE attributions (
  commit_id TEXT PRIMARY KEY,
  event_id  TEXT NOT NULL,
  agent     TEXT NOT NULL,
  human     INTEGER NOT NULL,
  messages  TEXT NOT NULL,
  patch_id  TEXT,
  clock     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX attributions_patch_id ON attributions (patch_id);
CREATE INDEX attributions_agent ON attributions (agent, clock);

CREATE TABLE rewrites (
  new_commit TEXT NOT NULL,
  old_commit TEXT NOT NULL,
  event_id   TEXT NOT NULL,
  kind       TEXT NOT NULL,
  lines      TEXT,
  PRIMARY KEY (new_commit, old_commit)
) WITHOUT ROWID;
CREATE INDEX rewrites_old ON rewrites (old_commit);

CREATE TABLE verdicts (
  id              TEXT PRIMARY KEY,
  message_id      TEXT NOT NULL,
  reviewer        TEXT NOT NULL,
  verdict         TEXT NOT NULL,
  reviewed_commit TEXT,
  clock           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX verdicts_message ON verdicts (message_id, clock);

-- Facts about commits that never change (a commit is immutable): computed once for re-linking.
-- Local cache only; not rebuilt from the ledger, recomputed on demand.
CREATE TABLE commit_facts (
  commit_id      TEXT PRIMARY KEY,
  patch_id       TEXT,
  trailer_agent  TEXT,
  trailer_msgs   TEXT NOT NULL
) WITHOUT ROWID;
`;
