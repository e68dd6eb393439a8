import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { queryPrepared, queryRows } from '../database/prepared-query';
import { ContactUpsertEvent } from '../domain/gateway-events';

export interface ContactRow {
  jid: string;
  phone_number: string | null;
  lid: string | null;
  name: string | null;
  push_name: string | null;
  is_business: boolean;
}

export type ContactWrite = ContactUpsertEvent['contact'];

const CONTACT_COLUMNS = 'jid, phone_number, lid, name, push_name, is_business';

/** A LID-only contact that left the stored copy by merging into the phone-number contact `into`. */
export interface ContactMerge {
  id: string;
  into: string;
}

/** What `upsertMany` changed. */
export interface ContactsWritten {
  written: (ContactRow & { inserted: boolean })[];
  merged: ContactMerge[];
}

/**
 * Contacts: one row per person and session, keyed by the phone-number JID once WhatsApp revealed
 * it, by the LID before. A LID belongs to at most one contact.
 */
@Injectable()
export class ContactsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores contacts (one entry per id; only the fields present change) and returns the rows that
   * were created or changed, and the LID-only contacts merged away. A contact known by its LID
   * alone merges into the phone-number contact once a mapping names that LID (the LID row goes;
   * its fields fill what the mapping does not say), and a LID that moves to another number leaves
   * the old one.
   */
  async upsertMany(runner: QueryRunner, sessionId: string, contacts: ContactWrite[]): Promise<ContactsWritten> {
    const byId = new Map(contacts.map((contact) => [contact.id, { ...contact }]));
    const merged: ContactMerge[] = [];
    const mapped = [...byId.values()].filter((c) => !c.id.endsWith('@lid') && typeof c.lid === 'string');
    // A LID-only entry of this batch whose LID a mapping of this batch names joins that contact.
    for (const contact of mapped) {
      const lidOnly = byId.get(contact.lid!);
      if (lidOnly) {
        byId.delete(lidOnly.id);
        byId.set(contact.id, { ...lidOnly, ...contact, id: contact.id });
      }
    }
    // A LID-only entry whose LID is mapped already updates the phone-number contact.
    const lidOnlyIds = [...byId.keys()].filter((id) => id.endsWith('@lid'));
    if (lidOnlyIds.length > 0) {
      const owners = await queryRows<{ jid: string; lid: string }>(
        runner,
        `SELECT jid, lid FROM contacts WHERE session_id = $1 AND lid = ANY($2::text[]) AND jid <> lid`,
        [sessionId, lidOnlyIds],
      );
      for (const owner of owners) {
        const entry = byId.get(owner.lid)!;
        byId.delete(owner.lid);
        const { lid: _lid, ...fields } = entry;
        byId.set(owner.jid, { ...byId.get(owner.jid), ...fields, id: owner.jid });
      }
    }
    const lids = [...byId.values()].filter((c) => !c.id.endsWith('@lid') && typeof c.lid === 'string');
    if (lids.length > 0) {
      // The LID-only rows these mappings absorb; what they knew fills what the mapping leaves out.
      const absorbed = await queryRows<ContactRow>(
        runner,
        `DELETE FROM contacts WHERE session_id = $1 AND jid = ANY($2::text[]) RETURNING ${CONTACT_COLUMNS}`,
        [sessionId, lids.map((c) => c.lid)],
      );
      const byLid = new Map(absorbed.map((row) => [row.jid, row]));
      for (const contact of lids) {
        const row = byLid.get(contact.lid!);
        if (!row) continue;
        merged.push({ id: row.jid, into: contact.id });
        if (contact.name === undefined && row.name !== null) contact.name = row.name;
        if (contact.pushName === undefined && row.push_name !== null) contact.pushName = row.push_name;
        if (contact.isBusiness === undefined && row.is_business) contact.isBusiness = true;
      }
      // A LID now mapped to another number leaves the contact that had it.
      await runner.query(
        `UPDATE contacts c SET lid = NULL FROM unnest($2::text[], $3::text[]) AS u(jid, lid)
          WHERE c.session_id = $1 AND c.lid = u.lid AND c.jid <> u.jid`,
        [sessionId, lids.map((c) => c.id), lids.map((c) => c.lid)],
      );
    }
    const writes = [...byId.values()];
    if (writes.length === 0) return { written: [], merged };
    const has = (key: keyof ContactWrite) => writes.map((c) => c[key] !== undefined);
    // The writing statements share one snapshot: the insert takes only ids not stored before.
    const written = await queryRows<ContactRow & { inserted: boolean }>(
      runner,
      `WITH u AS (
         SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[],
                              $7::boolean[], $8::boolean[], $9::boolean[], $10::boolean[])
                  AS u(jid, lid, name, push_name, is_business, has_lid, has_name, has_push_name, has_business)
       ), changed AS (
         SELECT c.jid,
                CASE WHEN u.has_lid AND u.jid NOT LIKE '%@lid' THEN u.lid ELSE c.lid END AS lid,
                CASE WHEN u.has_name THEN u.name ELSE c.name END AS name,
                CASE WHEN u.has_push_name THEN u.push_name ELSE c.push_name END AS push_name,
                CASE WHEN u.has_business THEN u.is_business ELSE c.is_business END AS is_business
           FROM contacts c JOIN u ON c.session_id = $1 AND c.jid = u.jid
       ), updated AS (
         UPDATE contacts c SET lid = n.lid, name = n.name, push_name = n.push_name, is_business = n.is_business
           FROM changed n
          WHERE c.session_id = $1 AND c.jid = n.jid
            AND (c.lid, c.name, c.push_name, c.is_business) IS DISTINCT FROM (n.lid, n.name, n.push_name, n.is_business)
         RETURNING ${CONTACT_COLUMNS.split(', ').map((column) => `c.${column}`).join(', ')}, false AS inserted
       ), inserted AS (
         INSERT INTO contacts (session_id, jid, phone_number, lid, name, push_name, is_business)
         SELECT $1, u.jid, CASE WHEN u.jid LIKE '%@s.whatsapp.net' THEN split_part(u.jid, '@', 1) END,
                CASE WHEN u.jid LIKE '%@lid' THEN u.jid ELSE u.lid END, u.name, u.push_name, COALESCE(u.is_business, false)
           FROM u WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.session_id = $1 AND c.jid = u.jid)
         RETURNING ${CONTACT_COLUMNS}, true AS inserted
       )
       SELECT * FROM updated UNION ALL SELECT * FROM inserted`,
      [
        sessionId,
        writes.map((c) => c.id),
        writes.map((c) => c.lid ?? null),
        writes.map((c) => c.name ?? null),
        writes.map((c) => c.pushName ?? null),
        writes.map((c) => c.isBusiness ?? null),
        has('lid'),
        has('name'),
        has('pushName'),
        has('isBusiness'),
      ],
    );
    return { written, merged };
  }

  // Reads of the contacts routes (API.md §10). Each checks the session's organization in the same
  // statement; a null answer means the organization has no such session.

  /**
   * Up to `limit` contacts after `after` (a JID; '' for the first page) in JID order: a walk of the
   * primary key from the cursor on, so a deep page costs what the first does.
   */
  async listPage(orgId: string, sessionId: string, limit: number, after: string): Promise<ContactRow[] | null> {
    return scopedRows(await queryPrepared<ContactRow | { jid: null }>(this.dataSource, CONTACTS_PAGE_SQL, [sessionId, orgId, limit, after]));
  }

  /**
   * Like `listPage`, of the contacts whose name (the saved one, else the one they set) starts with
   * `q` case-insensitively, or whose number starts with `q` (digits). Planned for the values given (not as a prepared statement), so
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
    return { sessionFound: true, contact: rows[0].jid === null ? null : rows[0] };
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

const READ_COLUMNS = 'c.jid, c.phone_number, c.lid, c.name, c.push_name, c.is_business';
const SESSION_SCOPE = 'FROM sessions s LEFT JOIN LATERAL';
const SESSION_WHERE = 'WHERE s.id = $1 AND s.org_id = $2 AND s.deleted_at IS NULL';

/** One page of a session's contacts: $1 session, $2 organization, $3 limit, $4 the JID to continue after. */
export const CONTACTS_PAGE_SQL = `SELECT c.* ${SESSION_SCOPE} (
                    SELECT ${READ_COLUMNS} FROM contacts c
                     WHERE c.session_id = $1 AND c.jid > $4
                     ORDER BY c.jid LIMIT $3
                  ) c ON true ${SESSION_WHERE}`;

// Two index ranges merged in JID order, each at most a page: names on `contacts_name_idx`, numbers on
// the primary key (a phone-number contact's JID starts with its number; a LID's does not count).
const SEARCH_SQL = `SELECT c.* ${SESSION_SCOPE} (
                      SELECT * FROM (
                        (SELECT ${READ_COLUMNS} FROM contacts c
                          WHERE c.session_id = $1 AND lower(COALESCE(c.name, c.push_name)) LIKE $5 AND c.jid > $4
                          ORDER BY c.jid LIMIT $3)
                        UNION
                        (SELECT ${READ_COLUMNS} FROM contacts c
                          WHERE $6::text IS NOT NULL AND c.session_id = $1 AND c.jid LIKE $6 AND c.phone_number LIKE $6 AND c.jid > $4
                          ORDER BY c.jid LIMIT $3)
                      ) u ORDER BY u.jid LIMIT $3
                    ) c ON true ${SESSION_WHERE}`;

const FIND_SQL = `SELECT c.* ${SESSION_SCOPE} (
                    SELECT ${READ_COLUMNS} FROM contacts c
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
