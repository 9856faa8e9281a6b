/** The --json shapes of checkout. */

export interface CheckoutJson {
  message: string;
  path: string;
  commit: string;
  base: string;
}

export interface CleanJson {
  removed: string[];
}
