import { validateEvents } from '../../src/ingestion/event-validation';
import { planIngestion } from '../../src/ingestion/ingestion-plan';

const A = '6281111111111@s.whatsapp.net';
const B = '120363000000000002@g.us';

const msg = (chatId: string, id: string, timestamp: number, extra: Record<string, unknown> = {}) => ({
  type: 'message.upsert',
  message: { id, chatId, fromMe: true, timestamp, type: 'text', text: `t-${id}-${timestamp}`, status: 'sent', ...extra },
});

const plan = (events: unknown[]) => planIngestion(validateEvents(events, 'provider'));

describe('ingestion plan', () => {
  it('puts an ordinary batch in one step, with the chats its messages need', () => {
    const steps = plan([msg(A, 'm1', 1), msg(B, 'm2', 2), { type: 'chat.upsert', chat: { id: B, name: 'Group' } }]);
    expect(steps).toHaveLength(1);
    expect(steps[0].chats).toEqual([
      { jid: A, type: 'direct' },
      { jid: B, type: 'group', name: 'Group' },
    ]);
    expect(steps[0].chatsWithFields).toEqual([{ jid: B, type: 'group', name: 'Group' }]);
    expect(steps[0].messages.map((m) => m.id)).toEqual(['m1', 'm2']);
  });

  it('folds writes to the same row, the later one winning', () => {
    const [step] = plan([
      msg(A, 'm1', 1),
      msg(A, 'm1', 5),
      { type: 'chat.upsert', chat: { id: A, name: 'first', pinned: true } },
      { type: 'chat.upsert', chat: { id: A, name: null } },
      { type: 'session.status', status: 'connecting', phoneNumber: '6281111111111' },
      { type: 'session.status', status: 'connected' },
    ]);
    expect(step.messages).toEqual([expect.objectContaining({ id: 'm1', ts: 5 })]);
    expect(step.chats).toEqual([{ jid: A, type: 'direct', name: null, pinned: true }]);
    expect(step.session).toEqual({ status: 'connected', phoneNumber: '6281111111111' });
  });

  it('starts a new step for a chat delete after a write to that chat, not before', () => {
    const steps = plan([{ type: 'chat.delete', chatId: A }, msg(A, 'm1', 1), msg(B, 'm2', 2), { type: 'chat.delete', chatId: A }, msg(A, 'm3', 3)]);
    expect(steps).toHaveLength(2);
    expect(steps[0]).toMatchObject({ deletedChats: [A], messages: [{ id: 'm1' }, { id: 'm2' }] });
    expect(steps[1]).toMatchObject({ deletedChats: [A], messages: [{ id: 'm3' }] });
  });

  it('folds receipts, edits and revokes into an upsert of the same step; an upsert keeps a further status and an earlier edit', () => {
    const [step, ...rest] = plan([
      { type: 'message.status', chatId: A, messageId: 'm1', status: 'played' },
      { type: 'message.edit', chatId: A, messageId: 'm1', text: 'lost' },
      { ...msg(A, 'm1', 1, { status: null }), raw: { a: 1 } },
      { type: 'message.status', chatId: A, messageId: 'm1', status: 'read' },
      { type: 'message.status', chatId: A, messageId: 'm1', status: 'delivered' },
      { ...msg(A, 'm2', 2), raw: { b: 2 } },
      { type: 'message.edit', chatId: A, messageId: 'm2', text: 'edited' },
      { type: 'message.revoke', chatId: A, messageId: 'm2' },
    ]);
    expect(rest).toEqual([]);
    expect(step.messageChanges).toEqual([]);
    expect(step.messages).toEqual([
      expect.objectContaining({ id: 'm1', status: 'played', text: 'lost', edited: true, rawJson: '{"a":1}' }),
      expect.objectContaining({ id: 'm2', status: 'sent', text: null, edited: false, revoked: true, rawJson: null }),
    ]);
  });

  it('folds changes to stored messages: receipts forward only, edits and revokes in order', () => {
    const [step] = plan([
      { type: 'message.status', chatId: A, messageId: 'm1', status: 'read' },
      { type: 'message.status', chatId: A, messageId: 'm1', status: 'delivered' },
      { type: 'message.edit', chatId: A, messageId: 'm1', text: 'edited' },
      { type: 'message.revoke', chatId: A, messageId: 'm2' },
      { type: 'message.edit', chatId: A, messageId: 'm3', text: 'edited' },
      { type: 'message.revoke', chatId: A, messageId: 'm3' },
    ]);
    expect(step.messageChanges).toEqual([
      { chatJid: A, id: 'm1', status: 'read', text: 'edited', revoked: false },
      { chatJid: A, id: 'm2', revoked: true },
      { chatJid: A, id: 'm3', revoked: true },
    ]);
    expect(step.chats).toEqual([]);
  });

  it('keeps one reaction per sender, the latest, in an upsert and in a change', () => {
    const react = (messageId: string, senderId: string, emoji: string, timestamp: number) =>
      ({ type: 'message.react', chatId: A, messageId, senderId, emoji, timestamp }) as const;
    const [step] = plan([
      msg(A, 'm1', 1),
      react('m1', '62811@s.whatsapp.net', '👍', 10),
      react('m1', '62822@s.whatsapp.net', '❤️', 11),
      react('m1', '62811@s.whatsapp.net', '😂', 9),
      react('m2', '62811@s.whatsapp.net', '👍', 10),
      react('m2', '62811@s.whatsapp.net', '', 12),
    ]);
    expect(step.messages[0].reactions).toEqual([
      { senderId: '62811@s.whatsapp.net', emoji: '👍', timestamp: 10 },
      { senderId: '62822@s.whatsapp.net', emoji: '❤️', timestamp: 11 },
    ]);
    expect(step.messageChanges).toEqual([{ chatJid: A, id: 'm2', revoked: false, reactions: [{ senderId: '62811@s.whatsapp.net', emoji: '', timestamp: 12 }] }]);
  });

  it('merges contact events per id and runs group events in order', () => {
    const [step] = plan([
      { type: 'contact.upsert', contact: { id: '628111@s.whatsapp.net', name: 'Budi' } },
      { type: 'group.upsert', group: { id: '1203@g.us', subject: 'Team' } },
      { type: 'contact.upsert', contact: { id: '628111@s.whatsapp.net', lid: '999@lid' } },
      { type: 'group.participants', groupId: '1203@g.us', action: 'add', participants: [{ id: '999@lid', phoneNumber: null }] },
    ]);
    expect(step.contacts).toEqual([{ id: '628111@s.whatsapp.net', name: 'Budi', lid: '999@lid' }]);
    expect(step.groups.map((event) => event.type)).toEqual(['group.upsert', 'group.participants']);
  });

  it('plans nothing for no events', () => {
    expect(plan([])).toEqual([]);
  });
});
