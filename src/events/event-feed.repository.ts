import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryPrepared } from '../database/prepared-query';
import { comparePositions, EventPosition, positionOf } from './event-position';

/** Which events a reader wants; null members match everything. */
export interface EventFilter {
  types: readonly string[] | null;
  sessionId: string | null;
}

/** One event as stored: its place in the log and its JSON exactly as the feed, the stream and webhooks send it. */
export interface StoredEvent {
  position: EventPosition;
  type: string;
  sessionId: string | null;
  payload: string;
}

export interface EventRead {
  /** The events read, in log order. */
  events: StoredEvent[];
  /** Where the next read starts: past every event read or skipped by the filter, never past an invisible one. */
  next: EventPosition;
  /** Every visible event after the start was looked at: reading again now finds nothing new. */
  exhausted: boolean;
  /** Committed events exist that are not visible yet (an older transaction still runs): read again soon. */
  pending: boolean;
  /** Events after the start were pruned (the start is older than the organization's horizon). */
  gone: boolean;
}

/** A row of READ or READ_ALL: the page's start and state on every row, and one event (none when the page is empty). */
interface ReadRow {
  start_xid: string;
  start_seq: string;
  gone: boolean;
  pending: boolean;
  /** READ only (READ_ALL returns every event it looks at): how many events the scan looked at, and the last of them. */
  scanned?: number;
  last_xid?: string | null;
  last_seq?: string | null;
  xid: string | null;
  seq: string | null;
  type: string | null;
  session_id: string | null;
  payload: string | null;
}

/**
 * One statement, one snapshot. Events are served in (`xid`, `seq`) order and only below the
 * snapshot's `xmin`, the oldest transaction still running: every transaction below it has ended,
 * so no event can appear there later, and a reader that moved past a position never misses an
 * event that commits afterwards. (A bare `seq > $cursor` would: `seq` is taken at insert time, and
 * a transaction that inserted early can commit after one that inserted later.)
 *
 * The scan takes at most `$4` visible events; the filter keeps at most `$5` of them. The start is
 * the given position, or the organization's pruning horizon when none is given.
 */
const READ = `
  WITH start AS (
    SELECT coalesce($2::xid8, h.xid, '0'::xid8) AS xid, coalesce($3::bigint, h.seq, 0) AS seq
      FROM (SELECT 1) one LEFT JOIN event_log_horizon h ON h.org_id = $1
  ), scanned AS MATERIALIZED (
    SELECT e.xid, e.seq, e.type, e.session_id, e.payload
      FROM events e
     WHERE e.org_id = $1
       AND (e.xid, e.seq) > ((SELECT xid FROM start), (SELECT seq FROM start))
       AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY e.xid, e.seq
     LIMIT $4
  ), matched AS (
    SELECT xid, seq, type, session_id, payload FROM scanned
     WHERE ($6::text[] IS NULL OR type = ANY ($6::text[])) AND ($7::text IS NULL OR session_id = $7::text)
     ORDER BY xid, seq
     LIMIT $5
  ), last AS (
    SELECT xid, seq FROM scanned ORDER BY xid DESC, seq DESC LIMIT 1
  )
  SELECT s.xid::text AS start_xid, s.seq::text AS start_seq,
         $2::xid8 IS NOT NULL AND EXISTS (
           SELECT 1 FROM event_log_horizon h WHERE h.org_id = $1 AND (h.xid, h.seq) > ($2::xid8, $3::bigint)
         ) AS gone,
         EXISTS (SELECT 1 FROM events p WHERE p.org_id = $1 AND p.xid >= pg_snapshot_xmin(pg_current_snapshot())) AS pending,
         (SELECT count(*)::int FROM scanned) AS scanned,
         (SELECT xid::text FROM last) AS last_xid, (SELECT seq::text FROM last) AS last_seq,
         m.xid::text AS xid, m.seq::text AS seq, m.type, m.session_id, m.payload
    FROM start s
    LEFT JOIN matched m ON true
   ORDER BY m.xid, m.seq`;

/** The same without a filter: every event looked at is returned, so the page is one index walk, with no copy or sort of the payloads. */
const READ_ALL = `
  WITH start AS (
    SELECT coalesce($2::xid8, h.xid, '0'::xid8) AS xid, coalesce($3::bigint, h.seq, 0) AS seq
      FROM (SELECT 1) one LEFT JOIN event_log_horizon h ON h.org_id = $1
  )
  SELECT s.xid::text AS start_xid, s.seq::text AS start_seq,
         $2::xid8 IS NOT NULL AND EXISTS (
           SELECT 1 FROM event_log_horizon h WHERE h.org_id = $1 AND (h.xid, h.seq) > ($2::xid8, $3::bigint)
         ) AS gone,
         EXISTS (SELECT 1 FROM events p WHERE p.org_id = $1 AND p.xid >= pg_snapshot_xmin(pg_current_snapshot())) AS pending,
         e.xid::text AS xid, e.seq::text AS seq, e.type, e.session_id, e.payload
    FROM start s
    LEFT JOIN LATERAL (
      SELECT e.xid, e.seq, e.type, e.session_id, e.payload
        FROM events e
       WHERE e.org_id = $1
         AND (e.xid, e.seq) > (s.xid, s.seq)
         AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY e.xid, e.seq
       LIMIT $4
    ) e ON true`;

const GONE = `
  SELECT EXISTS (SELECT 1 FROM event_log_horizon WHERE org_id = $1 AND (xid, seq) > ($2::xid8, $3::bigint)) AS gone`;

const HEAD = 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin';

/** The read side of the event log: pages for the feed and batches for the live streams. */
@Injectable()
export class EventFeedRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Events of `orgId` after `after` (the oldest retained when null), in log order: at most
   * `scanLimit` visible events are looked at, and at most `limit` of them that match `filter`
   * are returned.
   */
  async read(
    orgId: string,
    after: EventPosition | null,
    scanLimit: number,
    limit: number,
    filter: EventFilter | null,
  ): Promise<EventRead> {
    const start = [orgId, after ? String(after.xid) : null, after ? after.seq : null];
    const rows =
      filter === null
        ? await queryPrepared<ReadRow>(this.dataSource, READ_ALL, [...start, Math.min(scanLimit, limit)])
        : await queryPrepared<ReadRow>(this.dataSource, READ, [...start, scanLimit, limit, filter.types, filter.sessionId]);
    const meta = rows[0];
    const events: StoredEvent[] = [];
    for (const row of rows) {
      if (row.xid === null) continue;
      events.push({
        position: positionOf(row.xid, row.seq!),
        type: row.type!,
        sessionId: row.session_id,
        payload: row.payload!,
      });
    }
    // READ_ALL leaves the rows in the order of its index walk; the order of a page is kept here.
    events.sort((a, b) => comparePositions(a.position, b.position));
    const scanned = meta.scanned ?? events.length;
    const lastScanned = filter === null ? (events.at(-1)?.position ?? null) : meta.last_xid ? positionOf(meta.last_xid, meta.last_seq!) : null;
    const full = events.length === limit;
    let next = positionOf(meta.start_xid, meta.start_seq);
    if (full) next = events[events.length - 1].position;
    else if (lastScanned !== null) next = lastScanned;
    return {
      events,
      next,
      exhausted: !full && scanned < scanLimit,
      pending: meta.pending,
      gone: meta.gone,
    };
  }

  /** Whether events of `orgId` after `position` were pruned. */
  async isGone(orgId: string, position: EventPosition): Promise<boolean> {
    const [row] = await queryPrepared<{ gone: boolean }>(this.dataSource, GONE, [orgId, String(position.xid), position.seq]);
    return row.gone;
  }

  /**
   * The position of "now": every event below it is visible already, and every event not yet
   * visible (running or future transactions) lies above it.
   */
  async head(): Promise<EventPosition> {
    const [row] = await queryPrepared<{ xmin: string }>(this.dataSource, HEAD, []);
    return positionOf(row.xmin, '0');
  }
}
