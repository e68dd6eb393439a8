import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Wakes the replica holding a session when a request for it waits; the payload is the session id. */
export const REQUESTS_CHANNEL = 'gateway_holder_requests';
/** Wakes the replica that asked when its request is answered; the payload is the request id. */
export const ANSWERS_CHANNEL = 'gateway_holder_answers';

export interface HolderRequest {
  sessionId: string;
  id: string;
  kind: string;
  payload: unknown;
}

/** Requests only the replica holding a session can answer, asked by any replica (see `HolderRelay`). */
@Injectable()
export class HolderRequestsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async ask(request: HolderRequest): Promise<void> {
    await this.dataSource.query(
      `WITH r AS (
         INSERT INTO holder_requests (session_id, id, kind, payload) VALUES ($1, $2, $3, $4) RETURNING session_id
       )
       SELECT pg_notify('${REQUESTS_CHANNEL}', session_id) FROM r`,
      [request.sessionId, request.id, request.kind, JSON.stringify(request.payload)],
    );
  }

  /** The answer, once there is one. */
  async answerOf(sessionId: string, id: string): Promise<unknown> {
    const rows = await this.dataSource.query<{ answer: unknown }[]>(
      'SELECT answer FROM holder_requests WHERE session_id = $1 AND id = $2 AND answer IS NOT NULL',
      [sessionId, id],
    );
    return rows[0]?.answer ?? null;
  }

  async remove(sessionId: string, id: string): Promise<void> {
    await this.dataSource.query('DELETE FROM holder_requests WHERE session_id = $1 AND id = $2', [sessionId, id]);
  }

  /** Takes the requests of `sessionIds` nobody took yet, asked less than `maxAgeSeconds` ago (older ones were given up). */
  async claim(sessionIds: readonly string[], maxAgeSeconds: number): Promise<HolderRequest[]> {
    const [rows] = await this.dataSource.query<[HolderRequest[], number]>(
      `UPDATE holder_requests SET claimed_at = now()
        WHERE (session_id, id) IN (
          SELECT session_id, id FROM holder_requests
           WHERE session_id = ANY($1::text[]) AND claimed_at IS NULL AND created_at > now() - make_interval(secs => $2)
           FOR UPDATE SKIP LOCKED)
       RETURNING session_id AS "sessionId", id, kind, payload`,
      [sessionIds, maxAgeSeconds],
    );
    return rows;
  }

  async answer(sessionId: string, id: string, answer: unknown): Promise<void> {
    await this.dataSource.query(
      `WITH a AS (UPDATE holder_requests SET answer = $3 WHERE session_id = $1 AND id = $2 RETURNING id)
       SELECT pg_notify('${ANSWERS_CHANNEL}', id) FROM a`,
      [sessionId, id, JSON.stringify(answer)],
    );
  }

  /** Of `sessionIds`, those with a request nobody took yet. */
  async waiting(sessionIds: readonly string[]): Promise<string[]> {
    if (sessionIds.length === 0) return [];
    const rows = await this.dataSource.query<{ session_id: string }[]>(
      'SELECT DISTINCT session_id FROM holder_requests WHERE session_id = ANY($1::text[]) AND claimed_at IS NULL',
      [sessionIds],
    );
    return rows.map((row) => row.session_id);
  }
}
