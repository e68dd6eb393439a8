import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryPrepared } from '../database/prepared-query';
import { ContactRow } from './contact.dto';

@Injectable()
export class ContactsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  // Reads of the contacts routes (API.md §10). Each checks the session's organization in the same
  // statement; a null answer means the organization has no such session.

  /**
   * Up to `limit` contacts after `after` (a JID; '' for the first page) in JID order: a walk of the
   * primary key from the cursor on, so a deep page costs what the first does.
   */
  async listPage(orgId: string, sessionId: string, limit: number, after: string): Promise<ContactRow[] | null> {
    return scopedRows(await queryPrepared<ContactRow | { jid: null }>(this.dataSource, LIST_SQL, [sessionId, orgId, limit, after]));
  }

  /**
   * Like `listPage`, of the contacts whose saved name starts with `q` case-insensitively, or whose
   * number starts with `q` (digits). Planned for the values given (not as a prepared statement), so
   * that each prefix is an index range: names on `contacts_name_idx`, numbers on the primary key.
   */
  async searchPage(orgId: string, sessionId: string, limit: number, after: string, q: string): Promise<ContactRow[] | null> {
    const pattern = `${escapeLike(q.toLowerCase())}%`;
    const numberPattern = /^[0-9]+$/.test(q) ? `${q}%` : null;
    return scopedRows(await this.dataSource.query<(ContactRow | { jid: null })[]>(SEARCH_SQL, [sessionId, orgId, limit, after, pattern, numberPattern]));
  }

  /** The contact with JID `jid`, or the one a LID `jid` maps to. */
  async findOne(orgId: string, sessionId: string, jid: string | null): Promise<{ sessionFound: boolean; contact: ContactRow | null }> {
    const rows = await queryPrepared<ContactRow | { jid: null }>(this.dataSource, FIND_SQL, [sessionId, orgId, jid]);
    if (rows.length === 0) return { sessionFound: false, contact: null };
    return { sessionFound: true, contact: rows[0].jid === null ? null : (rows[0]) };
  }

  /** The numbers (digits) behind the LIDs of `lids` that the session knows. */
  async numbersOfLids(sessionId: string, lids: string[]): Promise<Map<string, string>> {
    if (lids.length === 0) return new Map();
    const rows = await queryPrepared<{ lid: string; phone_number: string }>(
      this.dataSource,
      `SELECT lid, phone_number FROM contacts WHERE session_id = $1 AND lid = ANY($2::text[]) AND phone_number IS NOT NULL`,
      [sessionId, lids],
    );
    return new Map(rows.map((row) => [row.lid, row.phone_number]));
  }
}

const CONTACT_COLUMNS = 'c.jid, c.phone_number, c.lid, c.name, c.push_name, c.is_business';
const SESSION_SCOPE = 'FROM sessions s LEFT JOIN LATERAL';
const SESSION_WHERE = 'WHERE s.id = $1 AND s.org_id = $2 AND s.deleted_at IS NULL';

const LIST_SQL = `SELECT c.* ${SESSION_SCOPE} (
                    SELECT ${CONTACT_COLUMNS} FROM contacts c
                     WHERE c.session_id = $1 AND c.jid > $4
                     ORDER BY c.jid LIMIT $3
                  ) c ON true ${SESSION_WHERE}`;

// Two index ranges merged in JID order, each at most a page: names on `contacts_name_idx`, numbers on
// the primary key (a phone-number contact's JID starts with its number; a LID's does not count).
const SEARCH_SQL = `SELECT c.* ${SESSION_SCOPE} (
                      SELECT * FROM (
                        (SELECT ${CONTACT_COLUMNS} FROM contacts c
                          WHERE c.session_id = $1 AND lower(c.name) LIKE $5 AND c.jid > $4
                          ORDER BY c.jid LIMIT $3)
                        UNION
                        (SELECT ${CONTACT_COLUMNS} FROM contacts c
                          WHERE $6::text IS NOT NULL AND c.session_id = $1 AND c.jid LIKE $6 AND c.phone_number LIKE $6 AND c.jid > $4
                          ORDER BY c.jid LIMIT $3)
                      ) u ORDER BY u.jid LIMIT $3
                    ) c ON true ${SESSION_WHERE}`;

const FIND_SQL = `SELECT c.* ${SESSION_SCOPE} (
                    SELECT ${CONTACT_COLUMNS} FROM contacts c
                     WHERE c.session_id = $1 AND (c.jid = $3 OR c.lid = $3)
                     ORDER BY c.jid = $3 DESC LIMIT 1
                  ) c ON true ${SESSION_WHERE}`;

function scopedRows(rows: (ContactRow | { jid: null })[]): ContactRow[] | null {
  if (rows.length === 0) return null;
  return rows.filter((row): row is ContactRow => row.jid !== null);
}

/** `q` taken literally by LIKE. */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
