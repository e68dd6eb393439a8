import request from 'supertest';
import { TestApp } from './test-app';

export const auth = (key: string): [string, string] => ['Authorization', `Bearer ${key}`];

/** Creates a session through the API and returns its id. */
export async function createSession(t: TestApp, manageKey: string, name = 'test number'): Promise<string> {
  const res = await request(t.http).post('/api/v1/sessions').set(...auth(manageKey)).send({ name });
  if (res.status !== 201) throw new Error(`session not created: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Pushes events through `POST /sessions/{sid}/events`; returns the response for the caller to check. */
export function pushEvents(t: TestApp, ingestKey: string, sid: string, events: unknown[]): request.Test {
  return request(t.http).post(`/api/v1/sessions/${sid}/events`).set(...auth(ingestKey)).send({ events });
}

/** Like `pushEvents`, but fails unless the batch is accepted whole. */
export async function ingest(t: TestApp, ingestKey: string, sid: string, events: unknown[]): Promise<void> {
  const res = await pushEvents(t, ingestKey, sid, events);
  if (res.status !== 200 || res.body.accepted !== events.length) {
    throw new Error(`batch not accepted: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

export const directJid = (n: number): string => `62812${String(n).padStart(8, '0')}@s.whatsapp.net`;
export const groupJid = (n: number): string => `1203630${String(n).padStart(11, '0')}@g.us`;

export function messageEvent(
  chatId: string,
  id: string,
  timestamp: number,
  extra: Record<string, unknown> = {},
): { type: 'message.upsert'; message: Record<string, unknown> } {
  return {
    type: 'message.upsert',
    message: {
      id,
      chatId,
      fromMe: false,
      senderId: chatId.endsWith('@g.us') ? directJid(1) : chatId,
      timestamp,
      type: 'text',
      text: `text of ${id}`,
      status: null,
      ...extra,
    },
  };
}

export function chatEvent(id: string, fields: Record<string, unknown> = {}): { type: 'chat.upsert'; chat: Record<string, unknown> } {
  return { type: 'chat.upsert', chat: { id, ...fields } };
}

/** Every item of a paged list, following `nextCursor` with `limit`. */
export async function pageAll(
  t: TestApp,
  key: string,
  path: string,
  limit: number,
  between?: (page: number) => Promise<void>,
): Promise<{ items: Record<string, unknown>[]; pages: number }> {
  const items: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: Record<string, string | number> = { limit };
    if (cursor) query.cursor = cursor;
    const res = await request(t.http).get(path).query(query).set(...auth(key));
    if (res.status !== 200) throw new Error(`page failed: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.data);
    cursor = res.body.nextCursor;
    pages += 1;
    if (between) await between(pages);
  } while (cursor);
  return { items, pages };
}
