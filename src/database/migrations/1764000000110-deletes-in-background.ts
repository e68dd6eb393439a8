import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deleting a session or a chat takes time proportional to its stored copy, so a delete only marks
 * the row (`sessions.deleted_at`, `chats.purging`): every read leaves marked rows out from that
 * commit on, and the rows go in bounded batches in the background (see `StoredCopyPurger`).
 *
 * A chat being purged keeps its key, and so its messages keep theirs: a chat created again under
 * that key would show the old messages that are not purged yet, and a message ingested again
 * with an old id would update the old row. So creating a chat whose previous incarnation is still
 * being purged is refused, as a lock that is not available (`55P03`, answered 503 with
 * `Retry-After`) until the purge is done; a retry then starts the chat over with only new
 * messages. The trigger guards every way a chat row is created (ingestion, sends) in one place.
 */
export class DeletesInBackground1764000000110 implements MigrationInterface {
  name = 'DeletesInBackground1764000000110';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sessions ADD COLUMN deleted_at timestamptz');
    await q.query('CREATE INDEX sessions_deleted_idx ON sessions (deleted_at) WHERE deleted_at IS NOT NULL');
    await q.query('ALTER TABLE chats ADD COLUMN purging boolean NOT NULL DEFAULT false');
    await q.query('CREATE INDEX chats_purging_idx ON chats (session_id, jid) WHERE purging');
    await q.query(`
      CREATE FUNCTION chats_refuse_while_purging() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM chats WHERE session_id = NEW.session_id AND jid = NEW.jid AND purging) THEN
          RAISE EXCEPTION 'chat % of session % is still being deleted', NEW.jid, NEW.session_id
            USING ERRCODE = 'lock_not_available', HINT = 'try again in a few seconds';
        END IF;
        RETURN NEW;
      END
      $$`);
    await q.query(`
      CREATE TRIGGER chats_refuse_while_purging BEFORE INSERT ON chats
        FOR EACH ROW EXECUTE FUNCTION chats_refuse_while_purging()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER chats_refuse_while_purging ON chats');
    await q.query('DROP FUNCTION chats_refuse_while_purging()');
    await q.query('ALTER TABLE chats DROP COLUMN purging');
    await q.query('ALTER TABLE sessions DROP COLUMN deleted_at');
  }
}
