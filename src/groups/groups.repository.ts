import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GroupParticipant } from '../domain/gateway-events';
import { queryPrepared } from '../database/prepared-query';
import { ProviderGroup } from '../whatsapp/whatsapp-provider';

/** A cached group; bigint columns arrive as strings. */
export interface GroupRow {
  jid: string;
  subject: string | null;
  description: string | null;
  owner_jid: string | null;
  created_at: string | null;
  announce: boolean;
  restrict: boolean;
  participants: GroupParticipant[];
  complete: boolean;
}

@Injectable()
export class GroupsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  // Reads and writes of the group routes (API.md §10).

  /** The cached group of a live session, or null. */
  async findCached(sessionId: string, jid: string): Promise<GroupRow | null> {
    const rows = await queryPrepared<GroupRow>(this.dataSource, FIND_SQL, [sessionId, jid]);
    return rows[0] ?? null;
  }

  /** Stores a group as WhatsApp just described it, whole: a complete entry. */
  async storeFetched(sessionId: string, group: ProviderGroup): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO groups AS g (session_id, jid, subject, description, owner_jid, created_at, announce, restrict, participants, complete, refreshed_at)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, true, now()
        WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND deleted_at IS NULL)
       ON CONFLICT (session_id, jid) DO UPDATE
          SET subject = EXCLUDED.subject, description = EXCLUDED.description, owner_jid = EXCLUDED.owner_jid,
              created_at = EXCLUDED.created_at, announce = EXCLUDED.announce, restrict = EXCLUDED.restrict,
              participants = EXCLUDED.participants, complete = true, refreshed_at = now()`,
      [
        sessionId,
        group.id,
        group.subject,
        group.description,
        group.ownerId,
        group.createdAt,
        group.announce,
        group.restrict,
        JSON.stringify(group.participants),
      ],
    );
  }

  /** The cached participant list no longer holds after a change: the next read asks WhatsApp. */
  async markIncomplete(sessionId: string, jid: string): Promise<void> {
    await this.dataSource.query('UPDATE groups SET complete = false WHERE session_id = $1 AND jid = $2 AND complete', [sessionId, jid]);
  }
}

const FIND_SQL = `SELECT g.jid, g.subject, g.description, g.owner_jid, g.created_at, g.announce, g.restrict, g.participants, g.complete
                    FROM groups g JOIN sessions s ON s.id = g.session_id AND s.deleted_at IS NULL
                   WHERE g.session_id = $1 AND g.jid = $2`;
