import { ChatWrite } from '../chats/chats.repository';
import { MessageChange, MessageWrite } from '../messages/messages.repository';
import { furtherStatus } from '../domain/message-status';
import { SessionStatusChange } from '../sessions/sessions.repository';
import { MessageStatus } from '../domain/gateway-events';
import { chatTypeOf } from '../domain/jid';
import { ValidEvent } from './event-validation';

/**
 * One round of set-based writes. They run in this order: chat deletes, chat upserts (also the
 * chats that messages need), message upserts, message changes (receipts, edits, revokes), then
 * the session status. Each list holds one entry per row.
 */
export interface IngestionStep {
  deletedChats: string[];
  chats: ChatWrite[];
  /** The chats among `chats` that a `chat.upsert` sent fields for. */
  chatsWithFields: ChatWrite[];
  messages: MessageWrite[];
  messageChanges: MessageChange[];
  session?: SessionStatusChange;
}

const messageKey = (chatJid: string, id: string): string => `${chatJid}\n${id}`;

class StepBuilder {
  readonly deletedChats = new Set<string>();
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

  // A receipt, edit or revoke of a message this step upserts goes into that upsert (so that a
  // replayed batch writes nothing); otherwise it is a change to the stored message.

  receipt(chatJid: string, id: string, status: MessageStatus): void {
    const write = this.messages.get(messageKey(chatJid, id));
    if (write) write.status = furtherStatus(write.status ?? undefined, status);
    else {
      const change = this.change(chatJid, id);
      change.status = furtherStatus(change.status, status);
    }
  }

  newText(chatJid: string, id: string, text: string | null, revoked: boolean): void {
    const write = this.messages.get(messageKey(chatJid, id));
    if (write) {
      write.text = text;
      if (revoked) write.rawJson = null;
    } else {
      const change = this.change(chatJid, id);
      change.text = text;
      change.revoked ||= revoked;
    }
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
      chats: [...this.chats.values()],
      chatsWithFields: [...this.chatsWithFields].map((jid) => this.chats.get(jid)!),
      messages: [...this.messages.values()],
      messageChanges: [...this.messageChanges.values()],
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
        // except a status further along: statuses never move backwards.
        const earlierStatus = step.messages.get(key)?.status ?? step.messageChanges.get(key)?.status ?? null;
        // An upsert that announces no file keeps the one announced before.
        const media = m.media ?? step.messages.get(key)?.media ?? null;
        step.messageChanges.delete(key);
        step.chat(m.chatId);
        step.messages.set(key, {
          chatJid: m.chatId,
          id: m.id,
          fromMe: m.fromMe,
          senderJid: m.senderId,
          ts: m.timestamp,
          type: m.type,
          text: m.text,
          status: m.status && earlierStatus ? furtherStatus(earlierStatus, m.status) : (m.status ?? earlierStatus),
          media,
          rawJson: event.rawJson,
        });
        break;
      }
      case 'message.status':
        step.receipt(event.chatId, event.messageId, event.status);
        break;
      case 'message.edit':
        step.newText(event.chatId, event.messageId, event.text, false);
        break;
      case 'message.revoke':
        step.newText(event.chatId, event.messageId, null, true);
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
