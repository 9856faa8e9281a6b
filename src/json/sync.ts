/** The --json shapes of sync. */

export interface SyncJson {
  remote: string;
  refPrefix: string;
  fetched: { chain: string; from: string | null; to: string }[];
  indexed: number;
  pushed: { chain: string; tip: string } | null;
  /** Chains not taken: rewritten, or (signature: true) with signatures that fail; commit names where. */
  refused: { chain: string; reason: string; commit?: string; signature?: boolean }[];
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
  /** Per chain, how its commits are signed (git's own check: gpg.ssh.allowedSignersFile, the keyring). */
  signatures: ChainSignatures[];
}

export interface ChainSignatures {
  chain: string;
  /** Signed by a key among the allowed signers. */
  good: number;
  /** Signed and valid, by a key that is not among the allowed signers. */
  unknownKey: number;
  /** Signatures that do not verify. */
  bad: number;
  unsigned: number;
  /** Signed, but git cannot check it here (no allowed signers file, an expired or revoked key). */
  unverifiable: number;
  /** Who signed (the allowed signers' principals), and with which keys. */
  signers: string[];
  keys: string[];
}

export interface VerifyProblem {
  code: string;
  message: string;
  chain?: string;
  commit?: string;
  event?: string;
}
