import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions and their stored copy. Every key leads with the session (so the schema can later be
 * distributed by `session_id`), ids and JIDs compare bytewise (`COLLATE "C"`: fast and the same on
 * every server locale), and instants that page cursors carry are `bigint` epoch ms so that a
 * cursor round-trips exactly.
 */
export class CreateSessionsChatsMessages1764000000001 implements MigrationInterface {
  name = 'CreateSessionsChatsMessages1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sessions (
        id            char(26)     COLLATE "C" PRIMARY KEY,
        org_id        varchar(128) NOT NULL,
        name          varchar(100) NOT NULL,
        provider      varchar(16)  NOT NULL CHECK (provider IN ('baileys', 'external')),
        status        varchar(16)  NOT NULL DEFAULT 'disconnected'
                      CHECK (status IN ('disconnected', 'connecting', 'pairing', 'connected', 'logged_out', 'failed')),
        phone_number  varchar(20),
        created_at    timestamptz  NOT NULL,
        updated_at    timestamptz  NOT NULL
      )`);
    await q.query('CREATE INDEX sessions_org_created_idx ON sessions (org_id, created_at DESC, id DESC)');

    await q.query(`
      CREATE TABLE chats (
        session_id       char(26)    COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        jid              varchar(64) COLLATE "C" NOT NULL,
        name             varchar(256),
        type             varchar(8)  NOT NULL CHECK (type IN ('direct', 'group')),
        archived         boolean     NOT NULL DEFAULT false,
        pinned           boolean     NOT NULL DEFAULT false,
        muted_until      bigint      CHECK (muted_until >= -1),
        unread_count     integer     NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
        last_message_at  bigint,
        PRIMARY KEY (session_id, jid)
      )`);
    // The list order: most recent activity first, chats without messages last (as -1), then jid.
    // The partial indexes serve the rare `archived=true` / `pinned=true` filters without a scan.
    await q.query(
      'CREATE INDEX chats_activity_idx ON chats (session_id, (COALESCE(last_message_at, -1)) DESC, jid DESC)',
    );
    await q.query(
      'CREATE INDEX chats_archived_activity_idx ON chats (session_id, (COALESCE(last_message_at, -1)) DESC, jid DESC) WHERE archived',
    );
    await q.query(
      'CREATE INDEX chats_pinned_activity_idx ON chats (session_id, (COALESCE(last_message_at, -1)) DESC, jid DESC) WHERE pinned',
    );

    await q.query(`
      CREATE TABLE messages (
        session_id  char(26)     COLLATE "C" NOT NULL,
        chat_jid    varchar(64)  COLLATE "C" NOT NULL,
        id          varchar(128) COLLATE "C" NOT NULL,
        from_me     boolean      NOT NULL,
        sender_jid  varchar(64),
        ts          bigint       NOT NULL CHECK (ts >= 0),
        type        varchar(16)  NOT NULL,
        text        text,
        status      varchar(16),
        raw         jsonb,
        PRIMARY KEY (session_id, chat_jid, id),
        FOREIGN KEY (session_id, chat_jid) REFERENCES chats (session_id, jid) ON DELETE CASCADE
      )`);
    await q.query('CREATE INDEX messages_page_idx ON messages (session_id, chat_jid, ts DESC, id DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE messages');
    await q.query('DROP TABLE chats');
    await q.query('DROP TABLE sessions');
  }
}
