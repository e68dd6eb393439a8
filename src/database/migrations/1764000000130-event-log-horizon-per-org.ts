import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The pruning horizon of the event log, per organization: the position (`xid`, `seq`) of the
 * newest event of that organization the pruner has deleted. A feed cursor below it may have
 * missed a pruned event and answers 410; a cursor at or above it missed nothing.
 *
 * One horizon for every organization would send a quiet organization's reader 410 (its cursor
 * stays at its own last event while nothing new comes) once other organizations' events were
 * pruned past it, although it missed nothing.
 */
export class EventLogHorizonPerOrg1764000000130 implements MigrationInterface {
  name = 'EventLogHorizonPerOrg1764000000130';

  async up(q: QueryRunner): Promise<void> {
    // Nothing has been pruned before this migration: the one row is the initial ('0', 0).
    await q.query('DELETE FROM event_log_horizon');
    await q.query('ALTER TABLE event_log_horizon DROP COLUMN singleton');
    await q.query(`ALTER TABLE event_log_horizon ADD COLUMN org_id varchar(128) COLLATE "C" NOT NULL`);
    await q.query('ALTER TABLE event_log_horizon ADD PRIMARY KEY (org_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DELETE FROM event_log_horizon');
    await q.query('ALTER TABLE event_log_horizon DROP COLUMN org_id');
    await q.query('ALTER TABLE event_log_horizon ADD COLUMN singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton)');
    await q.query(`INSERT INTO event_log_horizon (xid, seq) VALUES ('0', 0)`);
  }
}
