/** The --json shapes of review. */
import type { Verdict } from '../core/events';

export interface ReviewHunkJson {
  file: string;
  header: string;
  status: HunkStatus;
  /** For "changed": a unified diff from what was sent to what landed. */
  difference: string | null;
  /**
   * Where HEAD contains the judged commit and has moved on from it: how the hunk stands at HEAD (a revert
   * or a later edit), when that differs from `status`; null otherwise.
   */
  atHead: HunkStatus | null;
}

export interface ReviewJson {
  message: string;
  thread: string;
  from: string;
  /** What "landed" was compared with: the commits, or the range. */
  /** `elsewhere`: commits that answer it on branches the judged commit (`at`) does not contain. */
  /**
   * What "landed" was compared with: the commits, or the range; `at`, the commit judged; `onHead`, whether
   * the current HEAD contains it (false: the handoff landed on another branch only).
   */
  landed: {
    commits: string[];
    range: string | null;
    at: string | null;
    onHead: boolean;
    elsewhere: string[];
    /** Commits attributed to the handoff that nothing holds any more (reset away): not judged. */
    discarded: string[];
    /**
     * Of `commits`, those no hook recorded for the handoff, found on this branch since the diff's base and
     * linked by their trailers, patch ids or lines (a rebase made elsewhere, a squash merge on the host).
     */
    relinked: string[];
    /** No commit is attributed to the handoff (and none was thrown away): it is judged at HEAD (`at`). */
    byHead?: true;
  };
  hunks: ReviewHunkJson[];
  summary: Record<HunkStatus, number>;
  /**
   * Where HEAD contains the judged commit, has moved on, and stands differently for some hunk (a revert, a
   * later edit): the same count at HEAD; null otherwise.
   */
  atHead: { commit: string; summary: Record<HunkStatus, number> } | null;
  /** Files the landed commits changed that the handoff did not mention. */
  unmentioned: string[];
  verdicts: { id: string; reviewer: string; verdict: string; reviewedCommit: string | null }[];
}

export interface ReviewListJson {
  reviews: {
    message: string;
    from: string;
    kind: string;
    subject: string;
    ts: string;
    state: 'open' | Verdict;
    verdicts: number;
  }[];
}

export type HunkStatus = 'landed' | 'changed' | 'not_landed';
