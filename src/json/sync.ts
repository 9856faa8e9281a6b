/** The --json shapes of sync. */

export interface SyncJson {
  remote: string;
  refPrefix: string;
  fetched: { chain: string; from: string | null; to: string }[];
  indexed: number;
  pushed: { chain: string; tip: string } | null;
  refused: { chain: string; reason: string }[];
  /** Chains held back at a commit (a bad event, or one dated in the future): named with the commit. */
  quarantined: { chain: string; commit: string; reason: string }[];
  /** Chains whose witnesses name commits nobody can produce: their witness is ignored. */
  suspect: { chain: string; witnessed: string; commit: string }[];
  /** Events that reused an id already taken: what was indexed first stands. */
  duplicates: { id: string; chain: string; commit: string; kept: { chain: string; commit: string } }[];
}

export interface SetupJson {
  remote: string;
  refPrefix: string;
  added: { key: string; value: string }[];
  removed: { key: string; value: string }[];
  notes: string[];
}

export interface VerifyJson {
  ok: boolean;
  chains: number;
  events: number;
  problems: VerifyProblem[];
}

export interface VerifyProblem {
  code: string;
  message: string;
  chain?: string;
  commit?: string;
  event?: string;
}
