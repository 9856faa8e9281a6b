/**
 * Schema 6: the full-text index is brought up to date when it is searched, not as each event is indexed
 * (ledger/coordination.ts, catchUpSearch). settings.search_indexed_seq is the last events.seq the index
 * holds; every event a database of an earlier schema holds is in its index already.
 */
export default `
INSERT INTO settings (key, value) SELECT 'search_indexed_seq', COALESCE(MAX(seq), 0) FROM events;
`;
