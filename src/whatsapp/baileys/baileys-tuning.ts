import { BackoffOptions } from './baileys-reconnect-policy';

/** The provider's timings and bounds; tests shorten them, production uses the defaults. */
export interface BaileysTuning {
  /** Waits between reconnect attempts after a transient close. */
  reconnect: BackoffOptions;
  /** Waits between attempts to write a batch while the database is unavailable. */
  writeRetry: BackoffOptions;
  /** Events per write to the ingestion service (its batch limit). */
  maxBatchEvents: number;
  /**
   * Events all sessions' write queues of the process may hold together while writes fail; past
   * it the oldest history is given up (nothing is given up while writes succeed).
   */
  maxQueuedEvents: number;
  /** How long the first events of a burst wait for the rest, so that they are written together. */
  batchLingerMs: number;
  /** Baileys shows the first QR of a socket for 60 s and each following one for 20 s. */
  firstQrTtlMs: number;
  nextQrTtlMs: number;
  /** Session delete waits this long at most for WhatsApp to confirm the logout. */
  logoutTimeoutMs: number;
  /** A send that WhatsApp has not accepted by then is failed (the contract records it within 10 s). */
  sendTimeoutMs: number;
  /** On shutdown, how long queued events may take to reach the database. */
  drainTimeoutMs: number;
  /** How long `connect` waits for the `connecting` status to be stored. */
  statusWriteWaitMs: number;
}

export const BAILEYS_TUNING = Symbol('BAILEYS_TUNING');

export const DEFAULT_BAILEYS_TUNING: BaileysTuning = {
  reconnect: { baseMs: 1_000, maxMs: 60_000 },
  writeRetry: { baseMs: 250, maxMs: 30_000 },
  maxBatchEvents: 1_000,
  maxQueuedEvents: 50_000,
  batchLingerMs: 25,
  firstQrTtlMs: 60_000,
  nextQrTtlMs: 20_000,
  logoutTimeoutMs: 5_000,
  sendTimeoutMs: 8_000,
  drainTimeoutMs: 5_000,
  statusWriteWaitMs: 2_000,
};
