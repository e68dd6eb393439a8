/**
 * Time as the provider sees it: the current instant, timers and randomness for jitter. Injected
 * so that backoff, QR expiry and retries can be driven step by step in tests.
 */
export abstract class BaileysClock {
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
    // A pending reconnect or retry must not keep a stopping process alive.
    return setTimeout(callback, ms).unref();
  }

  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }

  random(): number {
    return Math.random();
  }
}

/** Waits on a clock that can be cut short, so that stopping never waits out a backoff. */
export class InterruptibleSleep {
  private wakers = new Set<() => void>();

  constructor(private readonly clock: BaileysClock) {}

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.clock.clearTimeout(handle);
        this.wakers.delete(wake);
        resolve();
      };
      const handle = this.clock.setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }
}

/** `promise`, or a rejection with `timeoutError()` once `ms` have passed. */
export async function withTimeout<T>(clock: BaileysClock, promise: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let handle: unknown = null;
  const timeout = new Promise<never>((_, reject) => {
    handle = clock.setTimeout(() => reject(timeoutError()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clock.clearTimeout(handle);
  }
}
