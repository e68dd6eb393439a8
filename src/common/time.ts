/** The timers the helpers below run on: the process's by default, a clock the test moves in tests. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's timers. A pending one never keeps a stopping process alive. */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Resolves after `ms`, or as soon as `signal` aborts, so that stopping never waits out a pause. */
export function sleep(ms: number, signal?: AbortSignal, timers: Timers = systemTimers): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const wake = () => {
      timers.clearTimeout(handle);
      signal?.removeEventListener('abort', wake);
      resolve();
    };
    const handle = timers.setTimeout(wake, ms);
    signal?.addEventListener('abort', wake);
  });
}

/** An `onTimeout` for `withTimeout` that fails with `message`. */
export function timedOut(message: string): () => never {
  return () => {
    throw new Error(message);
  };
}

const TIMED_OUT = Symbol('timed out');

/**
 * What `promise` settles to, or, when `ms` pass first, what `onTimeout` returns (or throws).
 * The promise itself is not cancelled; its outcome is just no longer waited for.
 */
export async function withTimeout<T, F = never>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => F,
  timers: Timers = systemTimers,
): Promise<T | F> {
  let handle: unknown = null;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    handle = timers.setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    const first = await Promise.race([promise, timeout]);
    return first === TIMED_OUT ? onTimeout() : first;
  } finally {
    timers.clearTimeout(handle);
  }
}
