import { systemTimers, Timers } from '../../common/time';

/**
 * Time as the provider sees it: the current instant, timers and randomness for jitter. Injected
 * so that backoff, QR expiry and retries can be driven step by step in tests.
 */
export abstract class BaileysClock implements Timers {
  abstract now(): number;
  abstract setTimeout(callback: () => void, ms: number): unknown;
  abstract clearTimeout(handle: unknown): void;
  /** A number in [0, 1). */
  abstract random(): number;
}

export class SystemClock extends BaileysClock {
  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, ms: number): unknown {
    return systemTimers.setTimeout(callback, ms);
  }

  clearTimeout(handle: unknown): void {
    systemTimers.clearTimeout(handle);
  }

  random(): number {
    return Math.random();
  }
}
