/**
 * Schema 7, for a database an earlier handoff wrote:
 * - Chains it held back are judged again, the next time a command indexes: it may have stopped at an event
 *   this handoff knows (a claim, to a handoff from before coordination). One held back for a reason that
 *   still stands is held back again, and said once more.
 * - The full-text index is made again at the next search: a database brought from schema 4 to 6 in one step
 *   recorded every event as indexed (schema 6's assumption, true of schema 5) though schema 5 had made the
 *   index empty, so nothing from before the upgrade was found.
 */
export default `
DELETE FROM quarantine;
DELETE FROM search;
INSERT OR REPLACE INTO settings (key, value) VALUES ('search_indexed_seq', '0');
INSERT OR REPLACE INTO settings (key, value) VALUES ('search_indexed_rowid', '0');
`;
