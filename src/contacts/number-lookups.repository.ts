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

/** WhatsApp's answers to "is this number on WhatsApp", per session, cached for a day. */
@Injectable()
export class NumberLookupsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The cached answers younger than a day, of `phoneNumbers`. */
  async fresh(sessionId: string, phoneNumbers: string[]): Promise<NumberLookup[]> {
    const rows = await queryPrepared<{ phone_number: string; exists: boolean; jid: string | null }>(this.dataSource, FRESH_SQL, [sessionId, phoneNumbers]);
    return rows.map((row) => ({ phoneNumber: row.phone_number, exists: row.exists, jid: row.jid }));
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
