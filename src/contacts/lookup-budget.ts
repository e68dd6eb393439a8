/** Whether the numbers asked may go to WhatsApp now, and when the next minute starts. */
export interface LookupGrant {
  granted: boolean;
  /** Whole seconds until the session's minute ends (at least 1). */
  retryAfterSeconds: number;
}

/**
 * The numbers each session may ask WhatsApp about per minute (`LOOKUP_RATE_PER_MINUTE`): too many
 * lookups get a number banned. Counted in fixed minutes by the one replica that asks for a
 * session, the holder of its connection; `limit` 0 counts nothing.
 */
export class LookupBudget {
  private used = new Map<string, number>();
  private minute = -1;

  constructor(
    private readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes `wanted` numbers of the session's budget, all or none. */
  take(sessionId: string, wanted: number): LookupGrant {
    const now = this.now();
    const minute = Math.floor(now / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.used = new Map();
    }
    const retryAfterSeconds = Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000));
    if (this.limit === 0) return { granted: true, retryAfterSeconds };
    const used = this.used.get(sessionId) ?? 0;
    if (used + wanted > this.limit) return { granted: false, retryAfterSeconds };
    this.used.set(sessionId, used + wanted);
    return { granted: true, retryAfterSeconds };
  }
}
