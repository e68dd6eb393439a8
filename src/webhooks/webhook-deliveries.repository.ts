import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryRecord {
  seq: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
}

/** A delivery claimed for one attempt, with what the attempt needs. */
export interface ClaimedDelivery {
  orgId: string;
  webhookId: string;
  seq: string;
  /** The attempt's number; the outcome is recorded only if no later claim took the delivery. */
  attempts: number;
  eventId: string;
  /** The event as the feed serves it; null when it is no longer kept. */
  payload: string | null;
  /** Epoch ms of the event. */
  eventCreatedAt: number | null;
  url: string;
  secret: string;
  previousSecret: string | null;
}

export interface WebhookRef {
  orgId: string;
  webhookId: string;
}

/** What one webhook of this process has in flight: the claim leaves it fewer free slots. */
export interface BusyWebhook extends WebhookRef {
  inFlight: number;
}

export interface FailedAttempt {
  statusCode: number | null;
  error: string;
  /** No automatic attempt follows (the receiver answered 410, the event is gone). */
  final: boolean;
  /** Disables the webhook at once, with this reason. */
  disableReason: string | null;
  /** Pause before the next attempt. */
  retryInMs: number;
  giveUpAfterMs: number;
  disableAfterMs: number;
  /** The webhook's pause after its first, second, … failed round; the last repeats. */
  pauseScheduleMs: readonly number[];
  /** The factor applied to the pause (jitter). */
  pauseJitter: number;
}

/** Identifies a delivery within a process. */
export function deliveryKey(d: { orgId: string; webhookId: string; seq: string }): string {
  return `${d.orgId}\n${d.webhookId}\n${d.seq}`;
}

/** Whether a webhook's pause is over (or it has none): a failure then starts a new round. */
const PAUSE_OVER = '(paused_until IS NULL OR paused_until <= now())';

/** Why the gateway disabled a webhook whose receiver kept failing. */
export const DISABLED_FOR_FAILURES = 'every delivery attempt failed for 24 hours';

interface DeliveryRow {
  seq: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  last_attempt_at: Date | null;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | null;
}

const DELIVERY_COLUMNS =
  'seq::text AS seq, event_id, event_type, status, attempts, last_attempt_at, next_attempt_at, last_status_code, last_error, delivered_at';

function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    seq: row.seq,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: row.next_attempt_at,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
  };
}

interface ClaimedRow {
  org_id: string;
  webhook_id: string;
  seq: string;
  attempts: number;
  event_id: string;
  payload: string | null;
  event_created_at: string | null;
  url: string;
  secret: string;
  previous_secret: string | null;
}

/**
 * Queries on `webhook_deliveries`: the delivery log of the API (scoped by organization and
 * webhook) and the dispatcher's claims and outcomes (across organizations: each row carries its own).
 */
@Injectable()
export class WebhookDeliveriesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A page of one webhook's deliveries, newest first, before sequence number `beforeSeq`. */
  async listPage(
    orgId: string,
    webhookId: string,
    limit: number,
    status: DeliveryStatus | undefined,
    beforeSeq: string | undefined,
  ): Promise<DeliveryRecord[]> {
    const rows = await this.dataSource.query<DeliveryRow[]>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d
        WHERE org_id = $1 AND webhook_id = $2 AND ($3::text IS NULL OR status = $3) AND ($4::bigint IS NULL OR d.seq < $4)
        ORDER BY d.seq DESC LIMIT $5`,
      [orgId, webhookId, status ?? null, beforeSeq ?? null, limit],
    );
    return rows.map(toDelivery);
  }

  async status(orgId: string, webhookId: string, seq: string): Promise<DeliveryStatus | null> {
    const rows = await this.dataSource.query<{ status: DeliveryStatus }[]>(
      'SELECT status FROM webhook_deliveries WHERE org_id = $1 AND webhook_id = $2 AND seq = $3',
      [orgId, webhookId, seq],
    );
    return rows[0]?.status ?? null;
  }

  /**
   * Makes a `failed` or `pending` delivery due now; false when it was not changed. An attempt under
   * way is left to finish: its outcome answers the retry.
   */
  async makeDue(orgId: string, webhookId: string, seq: string): Promise<boolean> {
    // A retry by hand is also a probe of a paused receiver: the webhook's pause ends with it.
    const rows = await this.dataSource.query<{ n: number }[]>(
      `WITH d AS (
         UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now()
          WHERE org_id = $1 AND webhook_id = $2 AND seq = $3 AND status <> 'delivered'
            AND (claimed_until IS NULL OR claimed_until <= now())
          RETURNING 1
       ), w AS (
         UPDATE webhooks SET paused_until = NULL
          WHERE org_id = $1 AND id = $2 AND paused_until IS NOT NULL AND EXISTS (SELECT 1 FROM d)
       )
       SELECT count(*)::int AS n FROM d`,
      [orgId, webhookId, seq],
    );
    return rows[0].n > 0;
  }

  /**
   * Claims due deliveries of enabled webhooks, each webhook's oldest first and no more per webhook
   * than `concurrency` minus what this process has in flight for it. Rows another replica is
   * claiming are skipped, never waited for. The claim counts the attempt and leases the row for
   * `leaseMs` (its `next_attempt_at` moves to the lease's end), and is committed before any request
   * is made: a process that dies mid-attempt leaves the delivery to be claimed again. `only`
   * restricts the claim to those webhooks (found by key, not by a scan of every webhook).
   */
  async claim(
    concurrency: number,
    busy: readonly BusyWebhook[],
    batch: number,
    leaseMs: number,
    only: readonly WebhookRef[] | null,
  ): Promise<ClaimedDelivery[]> {
    const [rows] = await this.dataSource.query<[ClaimedRow[], number]>(
      `WITH busy AS (
         SELECT * FROM unnest($2::text[], $3::text[], $4::int[]) AS b(org_id, webhook_id, in_flight)
       ), slots AS (
         SELECT w.org_id, w.id, $1::int - coalesce(b.in_flight, 0) AS free
           FROM webhooks w LEFT JOIN busy b ON b.org_id = w.org_id AND b.webhook_id = w.id
          WHERE w.enabled AND (w.paused_until IS NULL OR w.paused_until <= now()) ${
            only === null
              ? ''
              : 'AND (w.org_id, w.id) IN (SELECT * FROM unnest($7::text[], $8::text[]))'
          }
       ), picked AS (
         SELECT p.* FROM slots s CROSS JOIN LATERAL (
           SELECT d.org_id, d.webhook_id, d.seq, d.event_xid, d.event_seq
             FROM webhook_deliveries d
            WHERE d.org_id = s.org_id AND d.webhook_id = s.id AND d.status = 'pending' AND d.next_attempt_at <= now()
            ORDER BY d.next_attempt_at, d.seq
            LIMIT s.free
              FOR UPDATE SKIP LOCKED
         ) p
          WHERE s.free > 0
          LIMIT $5
       )
       UPDATE webhook_deliveries d
          SET attempts = d.attempts + 1, last_attempt_at = now(),
              claimed_until = now() + $6::int * interval '1 millisecond',
              next_attempt_at = now() + $6::int * interval '1 millisecond'
         FROM picked p
         JOIN webhooks w ON w.org_id = p.org_id AND w.id = p.webhook_id
         LEFT JOIN events e ON e.org_id = p.org_id AND e.xid = p.event_xid AND e.seq = p.event_seq
        WHERE d.org_id = p.org_id AND d.webhook_id = p.webhook_id AND d.seq = p.seq
        RETURNING d.org_id, d.webhook_id, d.seq::text AS seq, d.attempts, d.event_id, e.payload,
                  e.created_at::text AS event_created_at, w.url, w.secret,
                  CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END AS previous_secret`,
      [
        concurrency,
        busy.map((b) => b.orgId),
        busy.map((b) => b.webhookId),
        busy.map((b) => b.inFlight),
        batch,
        leaseMs,
        ...(only === null ? [] : [only.map((o) => o.orgId), only.map((o) => o.webhookId)]),
      ],
    );
    return rows
      .map(
        (r): ClaimedDelivery => ({
          orgId: r.org_id,
          webhookId: r.webhook_id,
          seq: r.seq,
          attempts: r.attempts,
          eventId: r.event_id,
          payload: r.payload,
          eventCreatedAt: r.event_created_at === null ? null : Number(r.event_created_at),
          url: r.url,
          secret: r.secret,
          previousSecret: r.previous_secret,
        }),
      )
      .sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
  }

  /**
   * Records 2xx answers in one statement; returns the keys (`deliveryKey`) of those recorded (a
   * claim lost meanwhile, deleted or claimed again after its lease, is not). A webhook with any of
   * them is no longer failing or paused.
   */
  async recordDelivered(delivered: readonly { delivery: ClaimedDelivery; statusCode: number }[]): Promise<Set<string>> {
    const rows = await this.dataSource.query<{ org_id: string; webhook_id: string; seq: string }[]>(
      `WITH r AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::int[])
                AS r(org_id, webhook_id, seq, attempts, status_code)
       ), d AS (
         UPDATE webhook_deliveries x
            SET status = 'delivered', delivered_at = now(), last_status_code = r.status_code, last_error = NULL,
                claimed_until = NULL
           FROM r
          WHERE x.org_id = r.org_id AND x.webhook_id = r.webhook_id AND x.seq = r.seq AND x.attempts = r.attempts
            AND x.status = 'pending'
          RETURNING x.org_id, x.webhook_id, x.seq::text AS seq
       ), w AS (
         UPDATE webhooks w SET failing_since = NULL, paused_until = NULL, failed_rounds = 0
          WHERE (w.org_id, w.id) IN (SELECT org_id, webhook_id FROM d)
            AND (w.failing_since IS NOT NULL OR w.paused_until IS NOT NULL)
       )
       SELECT org_id, webhook_id, seq FROM d`,
      [
        delivered.map((x) => x.delivery.orgId),
        delivered.map((x) => x.delivery.webhookId),
        delivered.map((x) => x.delivery.seq),
        delivered.map((x) => x.delivery.attempts),
        delivered.map((x) => x.statusCode),
      ],
    );
    return new Set(rows.map((row) => deliveryKey({ orgId: row.org_id, webhookId: row.webhook_id, seq: row.seq })));
  }

  /**
   * Records a failed attempt: the delivery is due again after `retryInMs`, or `failed` when the
   * attempt was final or the delivery is older than `giveUpAfterMs`. The webhook is disabled when
   * the attempt says so, or when every attempt has failed for `disableAfterMs`. Null when the
   * claim was lost meanwhile.
   */
  async recordFailed(d: ClaimedDelivery, attempt: FailedAttempt): Promise<{ status: DeliveryStatus; disabled: boolean } | null> {
    const rows = await this.dataSource.query<{ status: DeliveryStatus; disabled: boolean }[]>(
      `WITH d AS (
         UPDATE webhook_deliveries
            SET status = CASE WHEN $7::boolean OR created_at <= now() - $9::bigint * interval '1 millisecond'
                              THEN 'failed' ELSE 'pending' END,
                next_attempt_at = now() + $8::bigint * interval '1 millisecond',
                last_status_code = $5, last_error = $6, claimed_until = NULL
          WHERE org_id = $1 AND webhook_id = $2 AND seq = $3 AND attempts = $4 AND status = 'pending'
          RETURNING status
       ), cur AS (
         SELECT enabled AS was_enabled,
                $10::text IS NOT NULL OR coalesce(failing_since, now()) <= now() - $11::bigint * interval '1 millisecond' AS disable
           FROM webhooks WHERE org_id = $1 AND id = $2
       ), u AS (
         UPDATE webhooks
            SET failing_since = coalesce(failing_since, now()),
                -- The first failure of a round pauses the whole webhook; the others of the round
                -- (attempts already in flight) find it paused.
                failed_rounds = failed_rounds + CASE WHEN ${PAUSE_OVER} THEN 1 ELSE 0 END,
                paused_until = CASE WHEN ${PAUSE_OVER}
                                    THEN now() + ($13::bigint[])[least(failed_rounds + 1, cardinality($13::bigint[]))]
                                               * $14::float8 * interval '1 millisecond'
                                    ELSE paused_until END,
                enabled = enabled AND NOT cur.disable,
                disabled_reason = CASE WHEN cur.was_enabled AND cur.disable THEN coalesce($10, $12) ELSE disabled_reason END,
                updated_at = CASE WHEN cur.was_enabled AND cur.disable THEN greatest(now(), updated_at) ELSE updated_at END
           FROM cur
          WHERE org_id = $1 AND id = $2 AND EXISTS (SELECT 1 FROM d)
          RETURNING cur.was_enabled AND cur.disable AS disabled
       )
       SELECT d.status, coalesce((SELECT disabled FROM u), false) AS disabled FROM d`,
      [
        d.orgId,
        d.webhookId,
        d.seq,
        d.attempts,
        attempt.statusCode,
        attempt.error,
        attempt.final,
        attempt.retryInMs,
        attempt.giveUpAfterMs,
        attempt.disableReason,
        attempt.disableAfterMs,
        DISABLED_FOR_FAILURES,
        attempt.pauseScheduleMs,
        attempt.pauseJitter,
      ],
    );
    return rows[0] ?? null;
  }

  /**
   * Gives back claimed deliveries at shutdown, due again at once on any replica: attempts that were
   * abandoned mid-request, or (`attempted` false) claims that were never started, which then do not
   * count as attempts.
   */
  async release(deliveries: readonly ClaimedDelivery[], attempted: boolean): Promise<void> {
    if (deliveries.length === 0) return;
    await this.dataSource.query(
      `UPDATE webhook_deliveries d
          SET next_attempt_at = now(), claimed_until = NULL, attempts = d.attempts - CASE WHEN $5 THEN 0 ELSE 1 END
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[]) AS r(org_id, webhook_id, seq, attempts)
        WHERE d.org_id = r.org_id AND d.webhook_id = r.webhook_id AND d.seq = r.seq AND d.attempts = r.attempts
          AND d.status = 'pending'`,
      [
        deliveries.map((d) => d.orgId),
        deliveries.map((d) => d.webhookId),
        deliveries.map((d) => d.seq),
        deliveries.map((d) => d.attempts),
        attempted,
      ],
    );
  }

  async countPending(): Promise<number> {
    const rows = await this.dataSource.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'`);
    return rows[0].n;
  }
}
