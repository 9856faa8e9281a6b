/**
 * Schema 6: the full-text index is brought up to date when it is searched, not as each event is indexed
 * (ledger/apply.ts, catchUpSearch). settings.search_indexed_seq is the last events.seq the index holds
 * (every event a database of an earlier schema holds is in its index already), and search_indexed_rowid
 * the index's last row then: rows past it were added by a process of an earlier handoff still running.
 */
export default `
INSERT OR REPLACE INTO settings (key, value) SELECT 'search_indexed_seq', COALESCE(MAX(seq), 0) FROM events;
INSERT OR REPLACE INTO settings (key, value) SELECT 'search_indexed_rowid', COALESCE(MAX(rowid), 0) FROM search;
`;
