import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EVENTS_CHANNEL } from '../events/event-log.repository';

/** A webhook as stored; `secret` and `previousSecret` are sealed (see `WebhookSecretBox`). */
export interface WebhookRecord {
  orgId: string;
  id: string;
  url: string;
  description: string | null;
  events: string[];
  sessionIds: string[];
  includeHistory: boolean;
  enabled: boolean;
  disabledReason: string | null;
  secret: string;
  /** The secret before the last rotation, while it still signs; null otherwise. */
  previousSecret: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewWebhook {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  sessionIds: string[];
  includeHistory: boolean;
  secret: string;
  createdAt: Date;
}

/** Fields a PATCH may change; absent ones stay. */
export interface WebhookChanges {
  url?: string;
  description?: string | null;
  events?: string[];
  sessionIds?: string[];
  includeHistory?: boolean;
  enabled?: boolean;
}

/** Why a webhook was disabled through the API (the gateway gives its own reasons). */
export const DISABLED_BY_CLIENT = 'disabled through the API';

interface WebhookRow {
  org_id: string;
  id: string;
  url: string;
  description: string | null;
  events: string[];
  session_ids: string[];
  include_history: boolean;
  enabled: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The columns of a `WebhookRow`, of the table aliased `w`; a rotated secret only while it still signs. */
const COLUMNS = `w.org_id, w.id, w.url, w.description, w.events, w.session_ids, w.include_history, w.enabled, w.disabled_reason,
  w.secret, CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END AS previous_secret, w.created_at, w.updated_at`;

function toRecord(row: WebhookRow): WebhookRecord {
  return {
    orgId: row.org_id,
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    sessionIds: row.session_ids,
    includeHistory: row.include_history,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    secret: row.secret,
    previousSecret: row.previous_secret,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Queries on `webhooks`, each scoped by the caller's organization. */
@Injectable()
export class WebhooksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Inserts the webhook unless the organization already has `max`; false then. The organization's
   * webhooks are counted under a transaction-scoped lock, so two concurrent creations cannot both
   * take the last place.
   */
  insertWithinLimit(orgId: string, webhook: NewWebhook, max: number): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('wgw-webhooks' || chr(10) || $1, 0))`, [orgId]);
      const [{ count }] = await manager.query<{ count: number }[]>('SELECT count(*)::int AS count FROM webhooks WHERE org_id = $1', [
        orgId,
      ]);
      if (count >= max) return false;
      await manager.query(
        `INSERT INTO webhooks (org_id, id, url, description, events, session_ids, include_history, secret, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
        [orgId, webhook.id, webhook.url, webhook.description, webhook.events, webhook.sessionIds, webhook.includeHistory, webhook.secret, webhook.createdAt],
      );
      return true;
    });
  }

  async find(orgId: string, id: string): Promise<WebhookRecord | null> {
    const rows = await this.dataSource.query<WebhookRow[]>(`SELECT ${COLUMNS} FROM webhooks w WHERE w.org_id = $1 AND w.id = $2`, [
      orgId,
      id,
    ]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** A page of the organization's webhooks, newest first, after the `(createdAt, id)` position. */
  async listPage(orgId: string, limit: number, after?: { createdAt: Date; id: string }): Promise<WebhookRecord[]> {
    const rows = await this.dataSource.query<WebhookRow[]>(
      `SELECT ${COLUMNS} FROM webhooks w
        WHERE w.org_id = $1 AND ($2::timestamptz IS NULL OR (w.created_at, w.id) < ($2, $3))
        ORDER BY w.created_at DESC, w.id DESC LIMIT $4`,
      [orgId, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map(toRecord);
  }

  /**
   * Applies a partial update; null when there is no such webhook. `updatedAt` moves only when a
   * value really changes. Enabling clears the reason and the run of failures that disabled it.
   */
  async update(orgId: string, id: string, changes: WebhookChanges): Promise<WebhookRecord | null> {
    const rows = await this.dataSource.query<[WebhookRow[], number]>(
      `WITH next AS (
         SELECT coalesce($3, w.url) AS url,
                CASE WHEN $4::boolean THEN $5 ELSE w.description END AS description,
                coalesce($6::text[], w.events) AS events,
                coalesce($7::text[], w.session_ids) AS session_ids,
                coalesce($8::boolean, w.include_history) AS include_history,
                coalesce($9::boolean, w.enabled) AS enabled
           FROM webhooks w WHERE w.org_id = $1 AND w.id = $2
       )
       UPDATE webhooks w
          SET url = n.url, description = n.description, events = n.events, session_ids = n.session_ids,
              include_history = n.include_history, enabled = n.enabled,
              disabled_reason = CASE WHEN n.enabled = w.enabled THEN w.disabled_reason WHEN n.enabled THEN NULL ELSE $10 END,
              failing_since = CASE WHEN n.enabled AND NOT w.enabled THEN NULL ELSE w.failing_since END,
              updated_at = CASE
                WHEN (w.url, w.description, w.events, w.session_ids, w.include_history, w.enabled)
                     IS DISTINCT FROM (n.url, n.description, n.events, n.session_ids, n.include_history, n.enabled)
                THEN greatest(now(), w.updated_at) ELSE w.updated_at END
         FROM next n
        WHERE w.org_id = $1 AND w.id = $2
        RETURNING ${COLUMNS}`,
      [
        orgId,
        id,
        changes.url ?? null,
        changes.description !== undefined,
        changes.description ?? null,
        changes.events ?? null,
        changes.sessionIds ?? null,
        changes.includeHistory ?? null,
        changes.enabled ?? null,
        DISABLED_BY_CLIENT,
      ],
    );
    const updated = rows[0];
    return updated[0] ? toRecord(updated[0]) : null;
  }

  /**
   * Deletes the webhook and its deliveries; false when there was none. The deliveries go first:
   * recording an attempt locks its delivery and then the webhook, and a delete locking them the
   * other way round (the webhook, then its deliveries through the foreign key) would deadlock with it.
   */
  delete(orgId: string, id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('DELETE FROM webhook_deliveries WHERE org_id = $1 AND webhook_id = $2', [orgId, id]);
      const [, affected] = await manager.query<[unknown, number]>('DELETE FROM webhooks WHERE org_id = $1 AND id = $2', [orgId, id]);
      return affected > 0;
    });
  }

  /** Makes `sealedSecret` the signing secret; the one it replaces keeps signing for `graceMs`. */
  async rotateSecret(orgId: string, id: string, sealedSecret: string, graceMs: number): Promise<boolean> {
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      `UPDATE webhooks
          SET previous_secret = secret, previous_secret_expires_at = now() + $4::bigint * interval '1 millisecond', secret = $3
        WHERE org_id = $1 AND id = $2`,
      [orgId, id, sealedSecret, graceMs],
    );
    return affected > 0;
  }

  /** Which of `ids` are sessions of the organization (not deleted). */
  async ownedSessionIds(orgId: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.dataSource.query<{ id: string }[]>('SELECT id FROM sessions WHERE org_id = $1 AND id = ANY ($2::text[]) AND deleted_at IS NULL', [
      orgId,
      ids,
    ]);
    return new Set(rows.map((r) => r.id));
  }

  /** Wakes the dispatchers of every replica (the event log's channel: a wake-up, nothing more). */
  async wakeDispatchers(orgId: string): Promise<void> {
    await this.dataSource.query(`SELECT pg_notify('${EVENTS_CHANNEL}', $1)`, [orgId]);
  }
}
