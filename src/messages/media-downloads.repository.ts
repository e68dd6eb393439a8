import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { ProviderName } from '../config/app-config';
import { MessageMedia } from '../domain/media';
import { LIVE_HOLDERS_SQL } from '../sessions/session-ownership.service';
import { MessageRow } from './messages.repository';

/** A leased download: its message's file and provider original, and its session's organization. */
export interface DownloadJob {
  sessionId: string;
  orgId: string;
  provider: ProviderName;
  chatJid: string;
  messageId: string;
  attempts: number;
  reuploadRequested: boolean;
  /** The liveness number of the replica that leased it. */
  leasedBy: number;
  media: MessageMedia | null;
  raw: unknown;
}

/** Queries on `media_downloads`: the durable queue of received files to fetch. */
@Injectable()
export class MediaDownloadsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Queues the files of messages just written that are pending and at most `maxBytes`. */
  async enqueue(runner: QueryRunner, sessionId: string, rows: readonly MessageRow[], maxBytes: number): Promise<void> {
    const due = rows.filter((row) => row.media?.status === 'pending' && Number(row.media.size) <= maxBytes);
    if (due.length === 0) return;
    await runner.query(
      `INSERT INTO media_downloads (session_id, chat_jid, message_id)
       SELECT $1, u.chat_jid, u.id FROM unnest($2::text[], $3::text[]) AS u(chat_jid, id)
       ON CONFLICT DO NOTHING`,
      [sessionId, due.map((row) => row.chat_jid), due.map((row) => row.id)],
    );
  }

  /** Queues one file now (a first request for a large file). */
  async enqueueOne(sessionId: string, chatJid: string, messageId: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO media_downloads (session_id, chat_jid, message_id) VALUES ($1, $2, $3)
       ON CONFLICT (session_id, chat_jid, message_id) DO UPDATE SET next_attempt_at = LEAST(media_downloads.next_attempt_at, now())`,
      [sessionId, chatJid, messageId],
    );
  }

  /**
   * Leases up to `limit` due downloads of `sessions` for the replica whose liveness number is
   * `holder`, at most one per session and none of `busySessions` or of a session another live
   * replica is downloading from. A download is due when nobody leases it and its next attempt has
   * come, or when the replica that leased it is gone (its liveness lock with it): a download cut
   * off by a crash resumes at once on the session's holder, and a live replica's lease is never
   * taken from it.
   */
  async lease(limit: number, holder: number, sessions: readonly string[], busySessions: readonly string[]): Promise<DownloadJob[]> {
    const due = (d: string) => `CASE WHEN ${d}.leased_by IS NULL THEN ${d}.next_attempt_at <= now() ELSE ${d}.leased_by NOT IN (SELECT holder FROM live) END`;
    return await this.dataSource.query(
      `WITH live AS MATERIALIZED (${LIVE_HOLDERS_SQL}),
       due AS (
         SELECT d.session_id, d.chat_jid, d.message_id FROM media_downloads d
          WHERE (d.session_id, d.chat_jid, d.message_id) IN (
                  SELECT DISTINCT ON (f.session_id) f.session_id, f.chat_jid, f.message_id FROM media_downloads f
                   WHERE f.session_id = ANY ($4::text[]) AND NOT (f.session_id = ANY ($3::text[])) AND ${due('f')}
                     AND NOT EXISTS (SELECT 1 FROM media_downloads o WHERE o.session_id = f.session_id AND o.leased_by IN (SELECT holder FROM live))
                   ORDER BY f.session_id, f.next_attempt_at)
            AND ${due('d')}
          LIMIT $1
          FOR UPDATE OF d SKIP LOCKED
       ), leased AS (
         UPDATE media_downloads d SET leased_by = $2, attempts = d.attempts + 1
           FROM due WHERE (d.session_id, d.chat_jid, d.message_id) = (due.session_id, due.chat_jid, due.message_id)
         RETURNING d.*
       )
       SELECT l.session_id AS "sessionId", s.org_id AS "orgId", s.provider, l.chat_jid AS "chatJid", l.message_id AS "messageId",
              l.attempts, l.reupload_requested AS "reuploadRequested", l.leased_by::int AS "leasedBy", m.media, m.raw
         FROM leased l
         JOIN sessions s ON s.id = l.session_id
         JOIN messages m ON m.session_id = l.session_id AND m.chat_jid = l.chat_jid AND m.id = l.message_id`,
      [limit, holder, busySessions, sessions],
    );
  }

  async isQueued(sessionId: string, chatJid: string, messageId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      'SELECT 1 FROM media_downloads WHERE session_id = $1 AND chat_jid = $2 AND message_id = $3',
      [sessionId, chatJid, messageId],
    );
    return rows.length > 0;
  }

  /** Gives leases back (those still held under the lease they were taken with): the downloads are due again at once. */
  async release(jobs: readonly DownloadJob[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE media_downloads d SET leased_by = NULL, next_attempt_at = now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS u(session_id, chat_jid, message_id, leased_by)
        WHERE (d.session_id, d.chat_jid, d.message_id, d.leased_by) = (u.session_id, u.chat_jid, u.message_id, u.leased_by)`,
      [jobs.map((j) => j.sessionId), jobs.map((j) => j.chatJid), jobs.map((j) => j.messageId), jobs.map((j) => j.leasedBy)],
    );
  }

  async finish(runner: QueryRunner, job: Pick<DownloadJob, 'sessionId' | 'chatJid' | 'messageId'>): Promise<void> {
    await runner.query('DELETE FROM media_downloads WHERE session_id = $1 AND chat_jid = $2 AND message_id = $3', [
      job.sessionId,
      job.chatJid,
      job.messageId,
    ]);
  }

  /**
   * Gives the lease back and tries again after `delayMs`; with a new provider original when the
   * phone uploaded the file again. Nothing changes when the lease was taken over meanwhile.
   */
  async retryLater(job: DownloadJob, delayMs: number, reuploaded?: unknown): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const [, updated] = await manager.query<[unknown, number]>(
        `UPDATE media_downloads SET leased_by = NULL, next_attempt_at = now() + make_interval(secs => $4::double precision / 1000),
                reupload_requested = reupload_requested OR $5
          WHERE session_id = $1 AND chat_jid = $2 AND message_id = $3 AND leased_by = $6`,
        [job.sessionId, job.chatJid, job.messageId, delayMs, reuploaded !== undefined, job.leasedBy],
      );
      if (updated === 1 && reuploaded !== undefined) {
        await manager.query('UPDATE messages SET raw = $4 WHERE session_id = $1 AND chat_jid = $2 AND id = $3', [
          job.sessionId,
          job.chatJid,
          job.messageId,
          JSON.stringify(reuploaded),
        ]);
      }
    });
  }
}
