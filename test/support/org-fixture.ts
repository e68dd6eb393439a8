import request from 'supertest';
import { ApiKeysService } from '../../src/auth/api-keys/api-keys.service';
import { CAPABILITIES } from '../../src/auth/capability';
import { TestApp } from './test-app';

/** An organization with one of everything the API serves, made through the API itself. */
export interface SeededOrg {
  orgId: string;
  /** A key with every capability. */
  key: string;
  /** Another key of the organization (to get, list or revoke without locking the org out). */
  spareKeyId: string;
  sid: string;
  /** A direct chat and a group chat, both with messages. */
  jids: [string, string];
  /** Message ids, by chat JID. */
  messageIds: Record<string, string[]>;
  /** The ingest batch that made the chats and messages: replaying it restores them. */
  batch: { events: unknown[] };
  /** A webhook for every event, made before the batch. */
  webhookId: string;
  /** One of the webhook's deliveries (of an event of the batch). */
  deliveryId: string;
}

/** `webhookUrl`: where the organization's webhook points (a local receiver: the app must allow private URLs). */
export async function seedOrg(t: TestApp, orgId: string, tag: string, webhookUrl: string): Promise<SeededOrg> {
  const keys = t.app.get(ApiKeysService);
  const { key } = await keys.create(orgId, { name: `${tag} main`, capabilities: [...CAPABILITIES] });
  const spare = await keys.create(orgId, { name: `${tag} spare`, capabilities: ['read'] });
  const session = await request(t.http).post('/api/v1/sessions').set('Authorization', `Bearer ${key}`).send({ name: `${tag} number` });
  if (session.status !== 201) throw new Error(`POST /sessions answered ${session.status}: ${session.text}`);
  const sid = session.body.id as string;
  const webhook = await request(t.http)
    .post('/api/v1/webhooks')
    .set('Authorization', `Bearer ${key}`)
    .send({ url: webhookUrl, description: `${tag} hook`, events: ['*'] });
  if (webhook.status !== 201) throw new Error(`POST /webhooks answered ${webhook.status}: ${webhook.text}`);
  const webhookId = webhook.body.id as string;
  const digits = `62${Math.floor(1e9 + Math.random() * 9e9)}`;
  const jids: [string, string] = [`${digits}@s.whatsapp.net`, `${digits}-1600000000@g.us`];
  const messageIds: Record<string, string[]> = {};
  const events: unknown[] = [];
  jids.forEach((jid, c) => {
    events.push({ type: 'chat.upsert', chat: { id: jid, name: `${tag} chat ${c}`, unreadCount: 2 } });
    messageIds[jid] = [];
    for (let i = 0; i < 3; i++) {
      // Long and with a dot, so that no random id (a ULID has 26 characters of base32) can contain it by
      // chance: the tenancy suite looks for these in other organizations' answers.
      const id = `${tag.toUpperCase()}${c}M${i}.${digits}`;
      messageIds[jid].push(id);
      events.push({
        type: 'message.upsert',
        message: {
          id,
          chatId: jid,
          fromMe: i === 0,
          // In a group the sender is a member, never the group itself.
          senderId: i === 0 ? null : jids[0],
          timestamp: 1_732_400_000_000 + c * 100 + i,
          type: 'text',
          text: `${tag} secret ${c}/${i}`,
          status: i === 0 ? 'read' : null,
        },
      });
    }
  });
  const batch = { events };
  const ingested = await request(t.http).post(`/api/v1/sessions/${sid}/events`).set('Authorization', `Bearer ${key}`).send(batch);
  if (ingested.status !== 200) throw new Error(`POST /events answered ${ingested.status}: ${ingested.text}`);
  const deliveries = await request(t.http).get(`/api/v1/webhooks/${webhookId}/deliveries?limit=1`).set('Authorization', `Bearer ${key}`);
  const deliveryId = (deliveries.body as { data: { id: string }[] }).data[0]?.id;
  if (!deliveryId) throw new Error(`the batch made no delivery: ${deliveries.status} ${deliveries.text}`);
  return { orgId, key, spareKeyId: spare.id, sid, jids, messageIds, batch, webhookId, deliveryId };
}
