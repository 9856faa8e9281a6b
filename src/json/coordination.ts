/** The --json shapes of claims, task outcomes, reservations and search. */
import type { TaskState } from '../core/events';

export interface HolderJson {
  agent: string;
  since: string;
  /** When the lease runs out unless renewed (the holder's activity renews it). */
  expires: string | null;
  host: string | null;
  pid: number | null;
  /** live: its process runs; gone: it does not (same host); expired: the lease ran out; unknown: another host, lease current. */
  liveness: 'live' | 'gone' | 'expired' | 'unknown';
  /** claim --remote: the remote that arbitrated. */
  remote: string | null;
}

export interface ClaimJson {
  key: string;
  agent: string;
  /** claimed: it was free; renewed: it was already yours; reclaimed: taken from a holder that was gone or expired. */
  action: 'claimed' | 'renewed' | 'reclaimed';
  holder: HolderJson;
  reclaimed: { from: string; reason: 'gone' | 'expired'; since: string } | null;
  event: string;
}

export interface ReleaseJson {
  key: string;
  agent: string;
  released: boolean;
  event: string | null;
}

export interface ClaimsJson {
  claims: { key: string; holder: HolderJson; message: { id: string; subject: string } | null }[];
}

export interface TaskJson {
  id: string;
  from: string;
  to: string[];
  kind: string;
  subject: string;
  ts: string;
  /** open, claimed (by someone live), reclaimable (its claimer is gone or expired), done, failed, blocked. */
  state: 'open' | 'claimed' | 'reclaimable' | TaskState;
  claim: HolderJson | null;
  outcome: { state: TaskState; by: string; ts: string; event: string } | null;
}

export interface TasksJson {
  tasks: TaskJson[];
}

export interface OutcomeJson {
  message: string;
  state: TaskState;
  to: string[];
  event: string;
  released: boolean;
}

export interface ReservationJson {
  agent: string;
  pattern: string;
  exclusive: boolean;
  since: string;
  expires: string | null;
  liveness: HolderJson['liveness'];
  reason: string | null;
}

export interface ReservationsJson {
  reservations: ReservationJson[];
}

export interface ReserveJson {
  agent: string;
  patterns: string[];
  exclusive: boolean;
  expires: string | null;
  event: string;
  /** Exclusive reservations of other live agents that overlap the ones made. */
  conflicts: ReservationJson[];
}

export interface SearchHitJson {
  kind: string;
  id: string;
  thread: string | null;
  author: string;
  ts: string;
  snippet: string;
  rank: number;
  /** A commit since amended, rebased or squashed: the commits it became (as review and replay follow them). */
  rewrittenAs?: string[];
  /** A commit no branch or tag holds any more, and not rewritten into one that is (reset away). */
  discarded?: true;
}

export interface SearchJson {
  query: string;
  hits: SearchHitJson[];
}

/** A request's state as show and replay print it: who claimed it, or who recorded its outcome. */
export interface TaskStateJson {
  state: TaskJson['state'];
  by: string | null;
}
