/** Schema 3: messages that need no reply, and tmux panes to ring (local only) for the doorbell. */
export default `
ALTER TABLE messages ADD COLUMN no_reply INTEGER NOT NULL DEFAULT 0;

CREATE TABLE doorbells (
  agent     TEXT PRIMARY KEY,
  pane      TEXT NOT NULL,
  last_rung INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
`;
