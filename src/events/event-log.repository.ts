import { Injectable } from '@nestjs/common';
import { QueryRunner } from 'typeorm';
import { monotonicFactory } from 'ulid';
import { EventType } from '../domain/event-types';
import { MetricsService } from '../metrics/metrics.service';

/** A change to record: `data` is the resource exactly as the REST API serves it. */
export interface NewEvent {
  type: EventType;
  sessionId: string | null;
  data: unknown;
}

/** The channel that wakes feeds, streams and the webhook dispatcher; the payload is the organization. */
export const EVENTS_CHANNEL = 'gateway_events';

const nextUlid = monotonicFactory();

/**
 * Writes events into the log inside the caller's transaction, with one delivery row per matching
 * enabled webhook and a notification sent when (and only if) the transaction commits.
 */
@Injectable()
export class EventLogRepository {
  constructor(private readonly metrics: MetricsService) {}

  async append(runner: QueryRunner, orgId: string, events: readonly NewEvent[], history = false): Promise<void> {
    if (events.length === 0) return;
    const createdAt = Date.now();
    const ids: string[] = [];
    const payloads: string[] = [];
    for (const event of events) {
      const id = `evt_${nextUlid(createdAt)}`;
      ids.push(id);
      payloads.push(
        JSON.stringify({ id, type: event.type, createdAt, sessionId: event.sessionId, history, data: event.data }),
      );
    }
    await runner.query(
      `WITH e AS (
         INSERT INTO events (org_id, id, type, session_id, history, created_at, payload)
         SELECT $1, u.id, u.type, u.session_id, $5, $6, u.payload
           FROM unnest($2::text[], $3::text[], $4::text[], $7::text[]) WITH ORDINALITY AS u(id, type, session_id, payload, n)
          ORDER BY u.n
         RETURNING xid, seq, id, type, session_id, history
       ), d AS (
         INSERT INTO webhook_deliveries (org_id, webhook_id, event_xid, event_seq, event_id, event_type)
         SELECT $1, w.id, e.xid, e.seq, e.id, e.type
           FROM e JOIN webhooks w
                ON w.org_id = $1 AND w.enabled
               AND ('*' = ANY (w.events) OR e.type = ANY (w.events))
               AND (cardinality(w.session_ids) = 0 OR e.session_id = ANY (w.session_ids))
               AND (NOT e.history OR w.include_history)
          ORDER BY e.seq
       )
       SELECT pg_notify('${EVENTS_CHANNEL}', $1)`,
      [orgId, ids, events.map((e) => e.type), events.map((e) => e.sessionId), history, createdAt, payloads],
    );
    this.metrics.recordEvents(events.map((e) => e.type));
  }
}
