import { ChatWrite } from '../../chats/chats.repository';
import { MessageChange, MessageWrite } from '../../messages/messages.repository';
import { furtherStatus } from '../../messages/message-status';
import { SessionStatusChange } from '../../sessions/sessions.repository';
import { chatTypeOf } from '../jid';
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

  messageChange(chatJid: string, id: string): MessageChange {
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
 * events one by one. A step's fixed write order only goes wrong in two cases, which start a new
 * step: a `chat.delete` after something in the step that touched that chat, and a
 * `message.upsert` after a change to that same message. Within a step, writes to the same row are
 * folded (one INSERT … ON CONFLICT cannot touch a row twice).
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
        if (step.messageChanges.has(key)) startStep();
        step.chat(m.chatId);
        step.messages.set(key, {
          chatJid: m.chatId,
          id: m.id,
          fromMe: m.fromMe,
          senderJid: m.senderId,
          ts: m.timestamp,
          type: m.type,
          text: m.text,
          status: m.status,
          rawJson: event.rawJson,
        });
        break;
      }
      case 'message.status': {
        const change = step.messageChange(event.chatId, event.messageId);
        change.status = furtherStatus(change.status, event.status);
        break;
      }
      case 'message.edit':
        step.messageChange(event.chatId, event.messageId).text = event.text;
        break;
      case 'message.revoke': {
        const change = step.messageChange(event.chatId, event.messageId);
        change.text = null;
        change.revoked = true;
        break;
      }
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
