import { sleep } from '../common/time';

/** A reader waiting for its organization's log to grow. */
export interface Waiter {
  /** Resolves when woken, after `ms`, or when `signal` aborts, whichever comes first. */
  wait(ms: number, signal: AbortSignal): Promise<void>;
  /** Stops listening (the reader answers without waiting). */
  cancel(): void;
}

/**
 * Long-poll readers by organization. A reader arms its waiter *before* it queries the log, so a
 * notification that arrives between the query and the wait still wakes it.
 */
export class EventWaiters {
  private readonly byOrg = new Map<string, Set<() => void>>();

  arm(orgId: string): Waiter {
    const woken = new AbortController();
    const wake = (): void => woken.abort();
    let set = this.byOrg.get(orgId);
    if (!set) {
      set = new Set();
      this.byOrg.set(orgId, set);
    }
    set.add(wake);
    const cancel = (): void => {
      const current = this.byOrg.get(orgId);
      if (!current) return;
      current.delete(wake);
      if (current.size === 0) this.byOrg.delete(orgId);
    };
    return {
      cancel,
      wait: async (ms, signal) => {
        await sleep(ms, AbortSignal.any([signal, woken.signal]));
        cancel();
      },
    };
  }

  /** Wakes the readers of one organization, or of every organization for `'*'`. */
  wake(orgId: string): void {
    const sets = orgId === '*' ? [...this.byOrg.values()] : [this.byOrg.get(orgId)];
    for (const set of sets) for (const wake of [...(set ?? [])]) wake();
  }
}
