import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { ProviderName } from '../config/app-config';
import { MessageMedia } from '../domain/media';
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
   * Leases up to `limit` due downloads of `sessions`, at most one per session and none of
   * `busySessions`: their next attempt moves `leaseMs` ahead, so a crashed worker's lease runs out
   * and another takes it.
   */
  async lease(limit: number, leaseMs: number, sessions: readonly string[], busySessions: readonly string[]): Promise<DownloadJob[]> {
    return await this.dataSource.query(
      `WITH due AS (
         SELECT d.session_id, d.chat_jid, d.message_id FROM media_downloads d
          WHERE (d.session_id, d.chat_jid, d.message_id) IN (
                  SELECT DISTINCT ON (f.session_id) f.session_id, f.chat_jid, f.message_id FROM media_downloads f
                   WHERE f.session_id = ANY ($4::text[]) AND f.next_attempt_at <= now() AND NOT (f.session_id = ANY ($3::text[]))
                   ORDER BY f.session_id, f.next_attempt_at)
            AND d.next_attempt_at <= now()
          LIMIT $1
          FOR UPDATE SKIP LOCKED
       ), leased AS (
         UPDATE media_downloads d SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000), attempts = d.attempts + 1
           FROM due WHERE (d.session_id, d.chat_jid, d.message_id) = (due.session_id, due.chat_jid, due.message_id)
         RETURNING d.*
       )
       SELECT l.session_id AS "sessionId", s.org_id AS "orgId", s.provider, l.chat_jid AS "chatJid", l.message_id AS "messageId",
              l.attempts, l.reupload_requested AS "reuploadRequested", m.media, m.raw
         FROM leased l
         JOIN sessions s ON s.id = l.session_id
         JOIN messages m ON m.session_id = l.session_id AND m.chat_jid = l.chat_jid AND m.id = l.message_id`,
      [limit, leaseMs, busySessions, sessions],
    );
  }

  async isQueued(sessionId: string, chatJid: string, messageId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      'SELECT 1 FROM media_downloads WHERE session_id = $1 AND chat_jid = $2 AND message_id = $3',
      [sessionId, chatJid, messageId],
    );
    return rows.length > 0;
  }

  /** Gives leases back: the downloads are due again at once. */
  async release(jobs: readonly DownloadJob[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE media_downloads d SET next_attempt_at = now()
         FROM unnest($1::text[], $2::text[], $3::text[]) AS u(session_id, chat_jid, message_id)
        WHERE (d.session_id, d.chat_jid, d.message_id) = (u.session_id, u.chat_jid, u.message_id)`,
      [jobs.map((j) => j.sessionId), jobs.map((j) => j.chatJid), jobs.map((j) => j.messageId)],
    );
  }

  async finish(runner: QueryRunner, job: Pick<DownloadJob, 'sessionId' | 'chatJid' | 'messageId'>): Promise<void> {
    await runner.query('DELETE FROM media_downloads WHERE session_id = $1 AND chat_jid = $2 AND message_id = $3', [
      job.sessionId,
      job.chatJid,
      job.messageId,
    ]);
  }

  /** Tries again after `delayMs`; with a new provider original when the phone uploaded the file again. */
  async retryLater(job: DownloadJob, delayMs: number, reuploaded?: unknown): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      if (reuploaded !== undefined) {
        await manager.query('UPDATE messages SET raw = $4 WHERE session_id = $1 AND chat_jid = $2 AND id = $3', [
          job.sessionId,
          job.chatJid,
          job.messageId,
          JSON.stringify(reuploaded),
        ]);
      }
      await manager.query(
        `UPDATE media_downloads SET next_attempt_at = now() + make_interval(secs => $4::double precision / 1000),
                reupload_requested = reupload_requested OR $5
          WHERE session_id = $1 AND chat_jid = $2 AND message_id = $3`,
        [job.sessionId, job.chatJid, job.messageId, delayMs, reuploaded !== undefined],
      );
    });
  }
}
