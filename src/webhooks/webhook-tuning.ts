/** The dispatcher's timing, replaceable in tests so that no test waits minutes for a retry. */
export interface WebhookTuning {
  /** Pause after each failed attempt: the first after the first failure; the last repeats. */
  backoffMs: readonly number[];
  /** Each pause is drawn from ± this share of itself, so retries of many deliveries spread out. */
  jitter: number;
  /** A delivery created this long ago becomes `failed` at its next failed attempt. */
  giveUpAfterMs: number;
  /** A webhook whose every attempt has failed for this long is disabled. */
  disableAfterMs: number;
  /** How often due deliveries are looked for without a notification (a lost one, retries coming due). */
  pollMs: number;
  /** Most deliveries claimed by one query. */
  claimBatch: number;
  /** How long shutdown waits for attempts in flight before abandoning them to be retried. */
  drainMs: number;
}

const HOUR_MS = 3_600_000;

/** About 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then every 2 h, for 24 h (API.md §7). */
export const DEFAULT_WEBHOOK_TUNING: WebhookTuning = {
  backoffMs: [5_000, 30_000, 120_000, 600_000, 1_800_000, HOUR_MS, 2 * HOUR_MS],
  jitter: 0.2,
  giveUpAfterMs: 24 * HOUR_MS,
  disableAfterMs: 24 * HOUR_MS,
  pollMs: 1000,
  claimBatch: 200,
  drainMs: 5000,
};

export const WEBHOOK_TUNING = Symbol('WEBHOOK_TUNING');

/** The pause before the next attempt after `attempts` failed ones, with jitter. */
export function backoffDelayMs(tuning: WebhookTuning, attempts: number, random: () => number = Math.random): number {
  const base = tuning.backoffMs[Math.min(Math.max(attempts, 1), tuning.backoffMs.length) - 1];
  return Math.round(base * (1 - tuning.jitter + 2 * tuning.jitter * random()));
}
