import { ChatWrite } from '../chats/chats.repository';
import { MessageChange, MessageWrite } from '../messages/messages.repository';
import { furtherStatus } from '../domain/message-status';
import { SessionStatusChange } from '../sessions/sessions.repository';
import { ContactUpsertEvent, GroupParticipantsEvent, GroupUpsertEvent, MessageReaction, MessageStatus } from '../domain/gateway-events';
import { chatTypeOf, phoneNumberOfJid } from '../domain/jid';
import { mergeReactions } from '../domain/reactions';
import { ValidEvent } from './event-validation';

/**
 * One round of set-based writes. They run in this order: chat deletes, contacts (so that messages
 * of a `@lid` sender find a mapping of the same batch), chat upserts (also the chats that messages
 * need), message upserts, message changes (receipts, reactions, edits, revokes), group metadata,
 * then the session status. Each list holds one entry per row, except `groups`, applied in order.
 */
export interface IngestionStep {
  deletedChats: string[];
  contacts: ContactUpsertEvent['contact'][];
  chats: ChatWrite[];
  /** The chats among `chats` that a `chat.upsert` sent fields for. */
  chatsWithFields: ChatWrite[];
  messages: MessageWrite[];
  messageChanges: MessageChange[];
  groups: (GroupUpsertEvent | GroupParticipantsEvent)[];
  session?: SessionStatusChange;
}

const messageKey = (chatJid: string, id: string): string => `${chatJid}\n${id}`;

class StepBuilder {
  readonly deletedChats = new Set<string>();
  readonly contacts = new Map<string, ContactUpsertEvent['contact']>();
  readonly groups: (GroupUpsertEvent | GroupParticipantsEvent)[] = [];
  readonly chats = new Map<string, ChatWrite>();
  readonly chatsWithFields = new Set<string>();
  readonly messages = new Map<string, MessageWrite>();
  readonly messageChanges = new Map<string, MessageChange>();
  session?: SessionStatusChange;
  empty = true;

  chat(jid: string): ChatWrite {
    let chat = this.chats.get(jid);
    if (!chat) this.chats.set(jid, (chat = { jid, type: chatTypeOf(jid) }));
    return chat;
  }

  // A receipt, reaction, edit or revoke of a message this step upserts goes into that upsert (so
  // that a replayed batch writes nothing); otherwise it is a change to the stored message.

  receipt(chatJid: string, id: string, status: MessageStatus): void {
    const write = this.messages.get(messageKey(chatJid, id));
    if (write) write.status = furtherStatus(write.status ?? undefined, status);
    else {
      const change = this.change(chatJid, id);
      change.status = furtherStatus(change.status, status);
    }
  }

  react(chatJid: string, id: string, reaction: MessageReaction): void {
    const target = this.messages.get(messageKey(chatJid, id)) ?? this.change(chatJid, id);
    target.reactions = mergeReactions(target.reactions, [reaction]);
  }

  edit(chatJid: string, id: string, text: string | null): void {
    const write = this.messages.get(messageKey(chatJid, id));
    if (write) {
      if (!write.revoked) [write.text, write.edited] = [text, true];
    } else {
      const change = this.change(chatJid, id);
      if (!change.revoked) change.text = text;
    }
  }

  revoke(chatJid: string, id: string): void {
    const write = this.messages.get(messageKey(chatJid, id));
    if (write) [write.text, write.revoked, write.edited, write.rawJson] = [null, true, false, null];
    else {
      const change = this.change(chatJid, id);
      change.revoked = true;
      delete change.text;
    }
  }

  contact(contact: ContactUpsertEvent['contact']): void {
    this.contacts.set(contact.id, { ...this.contacts.get(contact.id), ...contact });
  }

  private change(chatJid: string, id: string): MessageChange {
    const key = messageKey(chatJid, id);
    let change = this.messageChanges.get(key);
    if (!change) this.messageChanges.set(key, (change = { chatJid, id, revoked: false }));
    return change;
  }

  build(): IngestionStep {
    const step: IngestionStep = {
      deletedChats: [...this.deletedChats],
      contacts: [...this.contacts.values()],
      chats: [...this.chats.values()],
      chatsWithFields: [...this.chatsWithFields].map((jid) => this.chats.get(jid)!),
      messages: [...this.messages.values()],
      messageChanges: [...this.messageChanges.values()],
      groups: this.groups,
    };
    if (this.session) step.session = this.session;
    return step;
  }
}

/**
 * Turns a batch into as few steps as its order allows, with the same outcome as applying the
 * events one by one. Within a step, writes to the same row are folded in event order (one
 * INSERT … ON CONFLICT cannot touch a row twice). A step's fixed write order only goes wrong for a
 * `chat.delete` after an upsert that touched that chat in the step, so that starts a new step.
 */
export function planIngestion(events: readonly ValidEvent[]): IngestionStep[] {
  const steps: IngestionStep[] = [];
  let step = new StepBuilder();
  const startStep = (): void => {
    steps.push(step.build());
    step = new StepBuilder();
  };

  for (const event of events) {
    switch (event.type) {
      case 'chat.delete':
        if (step.chats.has(event.chatId)) startStep();
        step.deletedChats.add(event.chatId);
        break;
      case 'chat.upsert': {
        const { id, ...fields } = event.chat;
        Object.assign(step.chat(id), fields);
        if (Object.keys(fields).length > 0) step.chatsWithFields.add(id);
        break;
      }
      case 'message.upsert': {
        const m = event.message;
        const key = messageKey(m.chatId, m.id);
        // The upsert replaces everything an earlier write or change in this step would have touched,
        // except what it cannot undo: a status further along, an edit or a revoke, reactions.
        const earlierWrite = step.messages.get(key);
        const earlierChange = step.messageChanges.get(key);
        const earlierStatus = earlierWrite?.status ?? earlierChange?.status ?? null;
        const revoked = (earlierWrite?.revoked ?? false) || (earlierChange?.revoked ?? false);
        const editedText = earlierWrite?.edited ? { text: earlierWrite.text } : earlierChange?.text !== undefined ? { text: earlierChange.text } : null;
        const reactions = earlierWrite?.reactions ?? earlierChange?.reactions ?? null;
        step.messageChanges.delete(key);
        step.chat(m.chatId);
        step.messages.set(key, {
          chatJid: m.chatId,
          id: m.id,
          fromMe: m.fromMe,
          senderJid: m.senderId,
          ts: m.timestamp,
          type: m.type,
          text: revoked ? null : editedText ? editedText.text : m.text,
          status: m.status && earlierStatus ? furtherStatus(earlierStatus, m.status) : (m.status ?? earlierStatus),
          // An upsert that announces no file keeps the one announced before.
          media: m.media ?? earlierWrite?.media ?? null,
          rawJson: revoked ? null : event.rawJson,
          replyTo: m.replyTo ?? earlierWrite?.replyTo ?? null,
          location: m.location ?? earlierWrite?.location ?? null,
          contacts: m.contacts ?? earlierWrite?.contacts ?? null,
          senderPn: m.senderPhoneNumber ?? phoneNumberOfJid(m.senderId) ?? earlierWrite?.senderPn ?? null,
          reactions,
          edited: !revoked && editedText !== null,
          revoked,
        });
        break;
      }
      case 'message.status':
        step.receipt(event.chatId, event.messageId, event.status);
        break;
      case 'message.react':
        step.react(event.chatId, event.messageId, { senderId: event.senderId, emoji: event.emoji, timestamp: event.timestamp });
        break;
      case 'message.edit':
        step.edit(event.chatId, event.messageId, event.text);
        break;
      case 'message.revoke':
        step.revoke(event.chatId, event.messageId);
        break;
      case 'contact.upsert':
        step.contact(event.contact);
        break;
      case 'group.upsert':
      case 'group.participants':
        step.groups.push(event);
        break;
      case 'session.status': {
        const phoneNumber = event.phoneNumber !== undefined ? event.phoneNumber : step.session?.phoneNumber;
        step.session = phoneNumber === undefined ? { status: event.status } : { status: event.status, phoneNumber };
        break;
      }
    }
    step.empty = false;
  }
  if (!step.empty) steps.push(step.build());
  return steps;
}
