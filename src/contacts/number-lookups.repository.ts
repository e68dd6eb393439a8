import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryPrepared } from '../database/prepared-query';
import { NumberLookup } from '../whatsapp/whatsapp-provider';

/** How long WhatsApp's answer about a number is served without asking again. */
export const LOOKUP_TTL_HOURS = 24;

const FRESH_SQL = `SELECT phone_number, "exists", jid FROM number_lookups
                    WHERE session_id = $1 AND phone_number = ANY($2::text[])
                      AND checked_at > now() - make_interval(hours => ${LOOKUP_TTL_HOURS})`;

/** Whether the numbers asked may go to WhatsApp now, and when the session's minute ends. */
export interface LookupGrant {
  granted: boolean;
  /** Whole seconds until the clock minute ends (at least 1). */
  retryAfterSeconds: number;
}

/**
 * Takes $2 numbers of session $1's count for the current clock minute, all or none, up to $3.
 * The minute is the database's, the same for every replica; a session purged meanwhile takes nothing.
 */
const TAKE_BUDGET_SQL = `
  WITH clock AS (SELECT extract(epoch FROM clock_timestamp()) AS now_s),
  m AS (SELECT floor(now_s / 60)::bigint AS minute, now_s FROM clock),
  taken AS (
    INSERT INTO number_lookup_budgets AS b (session_id, minute, used)
    SELECT $1::text, m.minute, $2::int FROM m
     WHERE $2::int <= $3::int AND EXISTS (SELECT 1 FROM sessions WHERE id = $1::text)
    ON CONFLICT (session_id) DO UPDATE
       SET minute = EXCLUDED.minute,
           used = CASE WHEN b.minute = EXCLUDED.minute THEN b.used + EXCLUDED.used ELSE EXCLUDED.used END
     WHERE b.minute <> EXCLUDED.minute OR b.used + EXCLUDED.used <= $3::int
    RETURNING used
  )
  SELECT EXISTS (SELECT 1 FROM taken) AS granted,
         greatest(1, ceil((m.minute + 1) * 60 - m.now_s))::int AS retry_after
    FROM m`;

/**
 * WhatsApp's answers to "is this number on WhatsApp", per session, cached for a day, and how many
 * numbers each session asked about this minute.
 */
@Injectable()
export class NumberLookupsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The cached answers younger than a day, of `phoneNumbers`. */
  async fresh(sessionId: string, phoneNumbers: string[]): Promise<NumberLookup[]> {
    const rows = await queryPrepared<{ phone_number: string; exists: boolean; jid: string | null }>(this.dataSource, FRESH_SQL, [sessionId, phoneNumbers]);
    return rows.map((row) => ({ phoneNumber: row.phone_number, exists: row.exists, jid: row.jid }));
  }

  /**
   * Takes `wanted` numbers of the session's `limit` per clock minute (`LOOKUP_RATE_PER_MINUTE`):
   * too many lookups get a number banned. Counted in the database, so that every replica asking
   * for the session, and the next holder after a takeover, share one count.
   */
  async takeBudget(sessionId: string, wanted: number, limit: number): Promise<LookupGrant> {
    const [row] = await queryPrepared<{ granted: boolean; retry_after: number }>(this.dataSource, TAKE_BUDGET_SQL, [sessionId, wanted, limit]);
    return { granted: row.granted, retryAfterSeconds: row.retry_after };
  }

  /** Stores new answers (a session deleted meanwhile stores nothing). */
  async store(sessionId: string, lookups: NumberLookup[]): Promise<void> {
    if (lookups.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO number_lookups (session_id, phone_number, "exists", jid, checked_at)
       SELECT $1, u.phone_number, u.exists, u.jid, now()
         FROM unnest($2::text[], $3::boolean[], $4::text[]) AS u(phone_number, "exists", jid)
        WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND deleted_at IS NULL)
       ON CONFLICT (session_id, phone_number) DO UPDATE SET "exists" = EXCLUDED.exists, jid = EXCLUDED.jid, checked_at = EXCLUDED.checked_at`,
      [sessionId, lookups.map((l) => l.phoneNumber), lookups.map((l) => l.exists), lookups.map((l) => l.jid)],
    );
  }
}
