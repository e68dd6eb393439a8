import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Conversations, contacts and groups (API.md §9, §10).
 * - `messages` gains what actions leave on a message: the quoted message, reactions (one per
 *   sender, kept on the row so that a page reads no other table), edit and revoke marks, the
 *   location or contact cards of such messages, and the sender's phone number when WhatsApp
 *   revealed it (`sender_pn`, backfilled when a LID mapping arrives; the partial index finds the
 *   messages of `@lid` senders without touching the others).
 * - `contacts`: one row per person, keyed by the phone-number JID when known, by the LID before;
 *   a LID maps to at most one contact of a session.
 * - `number_lookups`: WhatsApp's answers to "is this number on WhatsApp", cached for a day.
 * - `groups`: group metadata, cached from WhatsApp's group events and refreshed on demand.
 */
export class ConversationsContactsGroups1764000000160 implements MigrationInterface {
  name = 'ConversationsContactsGroups1764000000160';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE messages
        ADD COLUMN reply_to   varchar(128) COLLATE "C",
        ADD COLUMN reactions  jsonb,
        ADD COLUMN edited     boolean NOT NULL DEFAULT false,
        ADD COLUMN revoked    boolean NOT NULL DEFAULT false,
        ADD COLUMN location   jsonb,
        ADD COLUMN contacts   jsonb,
        ADD COLUMN sender_pn  varchar(20)`);
    await q.query(`CREATE INDEX messages_lid_sender_idx ON messages (session_id, sender_jid) WHERE sender_jid LIKE '%@lid'`);

    await q.query(`
      CREATE TABLE contacts (
        session_id    char(26)     COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        jid           varchar(64)  COLLATE "C" NOT NULL,
        phone_number  varchar(20)  COLLATE "C",
        lid           varchar(64)  COLLATE "C",
        name          varchar(256),
        push_name     varchar(256),
        is_business   boolean      NOT NULL DEFAULT false,
        PRIMARY KEY (session_id, jid)
      )`);
    await q.query('CREATE UNIQUE INDEX contacts_lid_idx ON contacts (session_id, lid) WHERE lid IS NOT NULL');
    // The `q` filter: a prefix of the name shown (the saved one, else the one the person set), case-insensitively.
    await q.query('CREATE INDEX contacts_name_idx ON contacts (session_id, lower(COALESCE(name, push_name)) text_pattern_ops, jid)');

    await q.query(`
      CREATE TABLE number_lookups (
        session_id    char(26)    COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        phone_number  varchar(20) COLLATE "C" NOT NULL,
        exists        boolean     NOT NULL,
        jid           varchar(64) COLLATE "C",
        checked_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, phone_number)
      )`);

    await q.query(`
      CREATE TABLE groups (
        session_id    char(26)     COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        jid           varchar(64)  COLLATE "C" NOT NULL,
        subject       varchar(256),
        description   text,
        owner_jid     varchar(64),
        created_at    bigint,
        announce      boolean      NOT NULL DEFAULT false,
        restrict      boolean      NOT NULL DEFAULT false,
        participants  jsonb        NOT NULL DEFAULT '[]',
        complete      boolean      NOT NULL DEFAULT false,
        refreshed_at  timestamptz  NOT NULL DEFAULT now(),
        PRIMARY KEY (session_id, jid)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE groups');
    await q.query('DROP TABLE number_lookups');
    await q.query('DROP TABLE contacts');
    await q.query('DROP INDEX messages_lid_sender_idx');
    await q.query(`ALTER TABLE messages DROP COLUMN reply_to, DROP COLUMN reactions, DROP COLUMN edited, DROP COLUMN revoked,
                   DROP COLUMN location, DROP COLUMN contacts, DROP COLUMN sender_pn`);
  }
}
