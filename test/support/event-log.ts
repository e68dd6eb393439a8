import request from 'supertest';
import { DataSource, QueryRunner } from 'typeorm';
import { EventType } from '../../src/domain/event-types';
import { EventLogRepository, NewEvent } from '../../src/events/event-log.repository';
import { TestApp } from './test-app';

/** A `message.created` event whose data names it, so a test can tell events apart. */
export function messageCreated(tag: string, sessionId: string | null = null, type: EventType = 'message.created'): NewEvent {
  return { type, sessionId, data: { id: tag, chatId: '6281234567890@s.whatsapp.net', text: `text of ${tag}` } };
}

/** A transaction of its own, on a connection of its own, that writes events through the real writer. */
export class EventWriter {
  private constructor(
    private readonly runner: QueryRunner,
    private readonly log: EventLogRepository,
  ) {}

  static async begin(t: TestApp): Promise<EventWriter> {
    const runner = t.app.get(DataSource).createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    return new EventWriter(runner, t.app.get(EventLogRepository));
  }

  append(orgId: string, events: NewEvent[], history = false): Promise<void> {
    return this.log.append(this.runner, orgId, events, history);
  }

  query<T>(sql: string, params: unknown[] = []): Promise<T> {
    return this.runner.query(sql, params) as Promise<T>;
  }

  async commit(): Promise<void> {
    try {
      await this.runner.commitTransaction();
    } finally {
      await this.runner.release();
    }
  }

  async rollback(): Promise<void> {
    try {
      await this.runner.rollbackTransaction();
    } finally {
      await this.runner.release();
    }
  }
}

/** Records events in one committed transaction. */
export async function record(t: TestApp, orgId: string, events: NewEvent[], history = false): Promise<void> {
  const writer = await EventWriter.begin(t);
  await writer.append(orgId, events, history);
  await writer.commit();
}

/** The stored payload of each of the organization's events, in log order. */
export async function storedPayloads(t: TestApp, orgId: string): Promise<string[]> {
  const rows = await t.app.get(DataSource).query<{ payload: string }[]>(
    'SELECT payload FROM events WHERE org_id = $1 ORDER BY xid, seq',
    [orgId],
  );
  return rows.map((r) => r.payload);
}

/**
 * Waits until the feed, read from its start with `query`, shows at least `count` events. An event
 * becomes visible only once every transaction older than its own has ended, anywhere on the
 * database server (other tests' included), so a test reads what it recorded through this.
 */
export async function untilVisible(t: TestApp, key: string, count: number, query: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await request(t.http).get('/api/v1/events').query({ ...query, limit: 1000, wait: 1 }).set('Authorization', `Bearer ${key}`);
    if (res.status !== 200) throw new Error(`feed answered ${res.status}: ${res.text}`);
    const seen = (res.body.data as unknown[]).length;
    if (seen >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${seen} of ${count} events became visible`);
    if (seen > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
