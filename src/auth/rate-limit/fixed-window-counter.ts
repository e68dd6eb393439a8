/** Where a key stands in the current window, after (or without) counting a hit. */
export interface WindowState {
  limit: number;
  /** Hits left in this window (0 once the limit is reached or passed). */
  remaining: number;
  /** Whole seconds until the window ends and the count starts again (at least 1). */
  resetSeconds: number;
  /** The count is past the limit. */
  exceeded: boolean;
}

/**
 * Counts hits per key in fixed windows aligned to the clock (one minute by default). Every key's
 * window ends at the same instant, so pruning is dropping the whole map when the window turns:
 * no timer, no per-key bookkeeping. Memory is bounded by `maxKeys`; a key first seen when the map
 * is full is not counted (it fails open: a per-replica limiter is no defence against that many
 * distinct clients, and refusing them all would let one attacker lock everybody out).
 */
export class FixedWindowCounter {
  private counts = new Map<string, number>();
  private window = -1;

  constructor(
    readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one hit for `key`. */
  hit(key: string): WindowState {
    const now = this.roll();
    const known = this.counts.get(key);
    if (known === undefined && this.counts.size >= this.maxKeys) return this.state(0, now);
    const count = (known ?? 0) + 1;
    this.counts.set(key, count);
    return this.state(count, now);
  }

  /** The state of `key` without counting a hit. */
  peek(key: string): WindowState {
    const now = this.roll();
    return this.state(this.counts.get(key) ?? 0, now);
  }

  get size(): number {
    return this.counts.size;
  }

  private roll(): number {
    const now = this.now();
    const window = Math.floor(now / this.windowMs);
    if (window !== this.window) {
      this.window = window;
      this.counts = new Map();
    }
    return now;
  }

  private state(count: number, now: number): WindowState {
    const resetMs = (this.window + 1) * this.windowMs - now;
    return {
      limit: this.limit,
      remaining: Math.max(0, this.limit - count),
      resetSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
      exceeded: count > this.limit,
    };
  }
}
