import request from 'supertest';
import { DataSource } from 'typeorm';
import { auth, createSession, directJid, groupJid, ingest, messageEvent, pushEvents } from '../support/ingest';
import { createKey, startTestApp, TestApp, uniqueOrg } from '../support/test-app';

interface LoggedEvent {
  type: string;
  history: boolean;
  data: Record<string, unknown>;
}

const GROUP = groupJid(7);
const BUDI = directJid(1);
const SARI = directJid(2);
const SARI_LID = '215492034568291@lid';
const react = (messageId: string, senderId: string, emoji: string, timestamp: number) => ({
  type: 'message.react',
  chatId: GROUP,
  messageId,
  senderId,
  emoji,
  timestamp,
});

/**
 * What connectors and providers report of conversations (API.md §9, §10) lands in the stored copy
 * and the event log: reactions (one per sender, latest wins, removal honoured), edits, revokes,
 * replies, locations, contact cards, contacts and the LID ↔ number mapping behind `senderPhoneNumber`.
 */
describe('conversation ingestion', () => {
  let t: TestApp;
  let db: DataSource;
  let org: string;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    org = uniqueOrg('conversations');
    key = await createKey(t, org);
  });
  afterAll(() => t.close());

  async function eventsSince(mark: number): Promise<LoggedEvent[]> {
    const rows = await db.query<{ payload: string }[]>('SELECT payload FROM events WHERE org_id = $1 ORDER BY xid, seq', [org]);
    return rows.slice(mark).map((row) => JSON.parse(row.payload) as LoggedEvent);
  }
  const count = async () => (await eventsSince(0)).length;
  const message = async (sid: string, chat: string, mid: string) => {
    const res = await request(t.http).get(`/api/v1/sessions/${sid}/chats/${chat}/messages/${mid}`).set(...auth(key));
    expect(res.status).toBe(200);
    return res.body as Record<string, unknown>;
  };

  it('keeps one reaction per sender, the latest, honours removals, and records each change once', async () => {
    const sid = await createSession(t, key);
    await ingest(t, key, sid, [messageEvent(GROUP, 'M1', 1_000)]);
    const mark = await count();
    await ingest(t, key, sid, [react('M1', BUDI, '👍', 2_000), react('M1', SARI, '❤️', 2_100), react('M1', BUDI, '😂', 1_500)]);
    expect((await message(sid, GROUP, 'M1')).reactions).toEqual([
      { senderId: BUDI, emoji: '👍', timestamp: 2_000 },
      { senderId: SARI, emoji: '❤️', timestamp: 2_100 },
    ]);
    const events = await eventsSince(mark);
    expect(events.map((e) => e.type)).toEqual(['message.updated']);
    expect(events[0].data).toEqual(await message(sid, GROUP, 'M1'));

    // A replay, and an older reaction arriving late, change nothing and record nothing.
    const replay = await count();
    await ingest(t, key, sid, [react('M1', BUDI, '👍', 2_000), react('M1', SARI, '🙏', 2_050)]);
    expect(await count()).toBe(replay);

    // A removal takes the sender's reaction away; an older reaction does not bring it back.
    await ingest(t, key, sid, [react('M1', BUDI, '', 3_000)]);
    await ingest(t, key, sid, [react('M1', BUDI, '🔥', 2_500)]);
    expect((await message(sid, GROUP, 'M1')).reactions).toEqual([{ senderId: SARI, emoji: '❤️', timestamp: 2_100 }]);

    // A reaction to a message that is not stored is skipped.
    const before = await count();
    await ingest(t, key, sid, [react('NOPE', BUDI, '👍', 4_000)]);
    expect(await count()).toBe(before);
  });

  it('folds reactions into a message stored in the same batch', async () => {
    const sid = await createSession(t, key);
    await ingest(t, key, sid, [messageEvent(GROUP, 'M2', 1_000), react('M2', BUDI, '👍', 2_000)]);
    expect((await message(sid, GROUP, 'M2')).reactions).toEqual([{ senderId: BUDI, emoji: '👍', timestamp: 2_000 }]);
  });

  it('marks edits and revokes, which a re-sent original never undoes', async () => {
    const sid = await createSession(t, key);
    const original = messageEvent(BUDI, 'E1', 1_000, { text: 'teh typo' });
    await ingest(t, key, sid, [original, messageEvent(BUDI, 'R1', 1_100, { text: 'oops' })]);
    await ingest(t, key, sid, [
      { type: 'message.edit', chatId: BUDI, messageId: 'E1', text: 'the typo', timestamp: 1_200 },
      { type: 'message.revoke', chatId: BUDI, messageId: 'R1' },
    ]);
    expect(await message(sid, BUDI, 'E1')).toMatchObject({ text: 'the typo', edited: true, revoked: false });
    expect(await message(sid, BUDI, 'R1')).toMatchObject({ text: null, edited: false, revoked: true });

    const mark = await count();
    await ingest(t, key, sid, [original, messageEvent(BUDI, 'R1', 1_100, { text: 'oops' })]);
    expect(await message(sid, BUDI, 'E1')).toMatchObject({ text: 'the typo', edited: true });
    expect(await message(sid, BUDI, 'R1')).toMatchObject({ text: null, revoked: true });
    expect(await count()).toBe(mark);

    // An edit of a revoked message does not give it text again.
    await ingest(t, key, sid, [{ type: 'message.edit', chatId: BUDI, messageId: 'R1', text: 'back?' }]);
    expect(await message(sid, BUDI, 'R1')).toMatchObject({ text: null, revoked: true, edited: false });
  });

  it('stores replies, locations and contact cards as sent', async () => {
    const sid = await createSession(t, key);
    const location = { latitude: -6.175392, longitude: 106.827153, name: 'Monas', address: 'Gambir, Jakarta' };
    const contacts = [{ name: 'Andi', phoneNumber: '6281311112222' }, { name: 'Tanpa nomor', phoneNumber: null }];
    await ingest(t, key, sid, [
      messageEvent(BUDI, 'Q1', 1_000),
      messageEvent(BUDI, 'A1', 1_100, { replyTo: 'Q1' }),
      messageEvent(BUDI, 'L1', 1_200, { type: 'location', text: null, location }),
      messageEvent(BUDI, 'C1', 1_300, { type: 'contact', text: 'Andi', contacts }),
    ]);
    expect(await message(sid, BUDI, 'A1')).toMatchObject({ replyTo: 'Q1', location: null, contacts: null });
    expect(await message(sid, BUDI, 'L1')).toMatchObject({ type: 'location', location });
    expect(await message(sid, BUDI, 'C1')).toMatchObject({ type: 'contact', contacts });
  });

  it('rejects malformed conversation events whole, naming the event', async () => {
    const sid = await createSession(t, key);
    for (const event of [
      { type: 'message.react', chatId: GROUP, messageId: 'M1', senderId: 'budi', emoji: '👍', timestamp: 1 },
      { type: 'message.react', chatId: GROUP, messageId: 'M1', senderId: BUDI, emoji: 'x'.repeat(33), timestamp: 1 },
      messageEvent(BUDI, 'L2', 1, { type: 'location', location: { latitude: 0, longitude: 181 } }),
      messageEvent(BUDI, 'C2', 1, { type: 'contact', contacts: [] }),
      { type: 'contact.upsert', contact: { id: SARI, lid: 'x@lid' } },
      { type: 'contact.upsert', contact: { id: SARI, name: 'a\u0000b' } },
    ]) {
      const res = await pushEvents(t, key, sid, [messageEvent(BUDI, 'OK', 1), event]);
      expect({ status: res.status, index: res.body.error?.details?.index }).toEqual({ status: 422, index: 1 });
    }
    const stored = await request(t.http).get(`/api/v1/sessions/${sid}/chats`).set(...auth(key));
    expect(stored.body.data).toEqual([]);
  });

  it('keeps contacts, merges a LID-only contact into its number once mapped, and backfills senderPhoneNumber', async () => {
    const sid = await createSession(t, key);
    // A group message from a sender WhatsApp only knows by LID, and that person's contact.
    await ingest(t, key, sid, [
      { type: 'contact.upsert', contact: { id: SARI_LID, pushName: 'Sari' } },
      messageEvent(GROUP, 'G1', 1_000, { senderId: SARI_LID }),
      messageEvent(GROUP, 'G2', 1_100, { senderId: SARI_LID }),
    ]);
    expect(await message(sid, GROUP, 'G1')).toMatchObject({ senderId: SARI_LID, senderPhoneNumber: null });
    const contactsBefore = await db.query('SELECT jid, phone_number, lid, push_name FROM contacts WHERE session_id = $1', [sid]);
    expect(contactsBefore).toEqual([{ jid: SARI_LID, phone_number: null, lid: SARI_LID, push_name: 'Sari' }]);

    const mark = await count();
    await ingest(t, key, sid, [{ type: 'contact.upsert', contact: { id: SARI, lid: SARI_LID, name: 'Sari Dewi' } }]);
    const events = await eventsSince(mark);
    expect(events.map((e) => e.type).sort()).toEqual(['contact.created', 'contact.deleted', 'message.updated', 'message.updated']);
    expect(events.find((e) => e.type === 'contact.deleted')!.data).toEqual({ id: SARI_LID, mergedInto: SARI });
    expect(events.find((e) => e.type === 'contact.created')!.data).toEqual({
      id: SARI,
      phoneNumber: '6281200000002',
      lid: SARI_LID,
      name: 'Sari Dewi',
      pushName: 'Sari',
      isBusiness: false,
    });
    expect(await message(sid, GROUP, 'G1')).toMatchObject({ senderId: SARI_LID, senderPhoneNumber: '6281200000002' });
    const contactsAfter = await db.query('SELECT jid, lid FROM contacts WHERE session_id = $1', [sid]);
    expect(contactsAfter).toEqual([{ jid: SARI, lid: SARI_LID }]);

    // Later messages of that LID get the number at once; an update by LID reaches the number's contact.
    await ingest(t, key, sid, [
      messageEvent(GROUP, 'G3', 1_200, { senderId: SARI_LID }),
      { type: 'contact.upsert', contact: { id: SARI_LID, pushName: 'Sari D' } },
    ]);
    expect(await message(sid, GROUP, 'G3')).toMatchObject({ senderPhoneNumber: '6281200000002' });
    expect(await db.query('SELECT jid, push_name FROM contacts WHERE session_id = $1', [sid])).toEqual([{ jid: SARI, push_name: 'Sari D' }]);

    // The LID moves to another number: the old contact loses it.
    const other = directJid(3);
    await ingest(t, key, sid, [{ type: 'contact.upsert', contact: { id: other, lid: SARI_LID } }]);
    expect(await db.query('SELECT jid, lid FROM contacts WHERE session_id = $1 ORDER BY jid', [sid])).toEqual([
      { jid: SARI, lid: null },
      { jid: other, lid: SARI_LID },
    ]);
    expect(await message(sid, GROUP, 'G1')).toMatchObject({ senderPhoneNumber: '6281200000003' });

    // A replayed mapping records nothing.
    const replay = await count();
    await ingest(t, key, sid, [{ type: 'contact.upsert', contact: { id: other, lid: SARI_LID } }]);
    expect(await count()).toBe(replay);
  });
});
