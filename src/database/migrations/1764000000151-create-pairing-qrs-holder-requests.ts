import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the replica holding a session shares with the others, so that any replica can answer:
 * the QR it shows while pairing (`pairing_qrs`, with `valid_until` on the database's clock, which
 * every replica reads alike), and requests that only the holder can answer (`holder_requests`,
 * e.g. a pairing code): asked by any replica, claimed and answered by the holder, woken by
 * `LISTEN/NOTIFY`, removed by the asker.
 */
export class CreatePairingQrsHolderRequests1764000000151 implements MigrationInterface {
  name = 'CreatePairingQrsHolderRequests1764000000151';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pairing_qrs (
        session_id   char(26)    COLLATE "C" PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
        qr           text        NOT NULL,
        expires_at   bigint      NOT NULL,
        valid_until  timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE holder_requests (
        session_id  char(26)    COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        id          char(26)    COLLATE "C" NOT NULL,
        kind        varchar(32) NOT NULL,
        payload     jsonb       NOT NULL,
        answer      jsonb,
        created_at  timestamptz NOT NULL DEFAULT now(),
        claimed_at  timestamptz,
        PRIMARY KEY (session_id, id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE holder_requests');
    await q.query('DROP TABLE pairing_qrs');
  }
}
