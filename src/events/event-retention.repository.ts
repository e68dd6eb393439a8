import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** The advisory lock that lets one replica at a time prune (any constant of our own). */
const PRUNE_LOCK = 0x77677765; // "wgwe"

export interface PrunedBatch {
  /** False when another replica was pruning: this one did nothing. */
  locked: boolean;
  events: number;
  deliveries: number;
}

/**
 * Deletes events (and webhook delivery records) created before `cutoff`, at most `batch` of each,
 * and moves each affected organization's horizon up to the newest event deleted, so that a cursor
 * below it answers 410. The rows and the horizon change in one transaction: a reader sees either
 * the events or the horizon that covers them. A delivery being attempted right now (locked by the
 * dispatcher) is left for the next batch rather than waited for.
 */
const PRUNE = `
  WITH doomed AS (
    SELECT org_id, xid, seq FROM events WHERE created_at < $1 ORDER BY created_at LIMIT $2
  ), deleted AS (
    DELETE FROM events e USING doomed d
     WHERE e.org_id = d.org_id AND e.xid = d.xid AND e.seq = d.seq
    RETURNING e.org_id, e.xid, e.seq
  ), newest AS (
    SELECT DISTINCT ON (org_id) org_id, xid, seq FROM deleted ORDER BY org_id, xid DESC, seq DESC
  ), horizon AS (
    INSERT INTO event_log_horizon (org_id, xid, seq) SELECT org_id, xid, seq FROM newest
    ON CONFLICT (org_id) DO UPDATE SET xid = excluded.xid, seq = excluded.seq
     WHERE (event_log_horizon.xid, event_log_horizon.seq) < (excluded.xid, excluded.seq)
  ), doomed_deliveries AS (
    SELECT org_id, webhook_id, seq FROM webhook_deliveries
     WHERE created_at < to_timestamp($1::bigint / 1000.0) ORDER BY created_at LIMIT $2
       FOR UPDATE SKIP LOCKED
  ), deleted_deliveries AS (
    DELETE FROM webhook_deliveries w USING doomed_deliveries d
     WHERE w.org_id = d.org_id AND w.webhook_id = d.webhook_id AND w.seq = d.seq
    RETURNING 1
  )
  SELECT (SELECT count(*)::int FROM deleted) AS events, (SELECT count(*)::int FROM deleted_deliveries) AS deliveries`;

@Injectable()
export class EventRetentionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** One bounded batch, in its own short transaction, only while holding the pruning lock. */
  pruneBatch(cutoff: number, batch: number): Promise<PrunedBatch> {
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await manager.query<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock($1) AS locked', [PRUNE_LOCK]);
      if (!locked) return { locked: false, events: 0, deliveries: 0 };
      const [counts] = await manager.query<{ events: number; deliveries: number }[]>(PRUNE, [cutoff, batch]);
      return { locked: true, ...counts };
    });
  }
}
