/** The --json shapes of checkout. */

export interface CheckoutJson {
  message: string;
  path: string;
  commit: string;
  base: string;
}

export interface CleanJson {
  removed: string[];
  /** Worktrees left in place, with git's reason (changes in them, without --force). */
  kept: { path: string; message: string; reason: string }[];
}
