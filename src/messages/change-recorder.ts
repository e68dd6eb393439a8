import { ChatRow } from '../chats/chats.repository';
import { toContactDto } from '../contacts/contact.dto';
import { ContactMerge, ContactRow } from '../contacts/contacts.repository';
import { toChatDto } from '../chats/chat.dto';
import { NewEvent } from '../events/event-log.repository';
import { MessageRow } from './messages.repository';
import { toMessageDto } from './message.dto';
import { SessionEntity } from '../sessions/session.entity';
import { toSessionDto } from '../sessions/session.dto';

interface Entry {
  event: NewEvent;
  /** The row the event's data is built from, kept current until the batch ends. */
  row: unknown;
  toData: (row: never) => unknown;
}

/**
 * Collects the events of one ingestion batch from the rows its statements wrote. A row changed
 * several times in a batch gives one event with its final state (created stays created), except
 * across a chat delete, which closes the chat's open entries: the log then tells created, deleted,
 * created again, in that order.
 */
export class ChangeRecorder {
  private readonly entries: Entry[] = [];
  /** Open entries by row key. */
  private readonly open = new Map<string, Entry>();

  constructor(private readonly sessionId: string) {}

  messagesWritten(rows: readonly (MessageRow & { inserted?: boolean })[]): void {
    for (const row of rows) this.record(`m\n${row.chat_jid}\n${row.id}`, row.inserted ? 'message.created' : 'message.updated', row, toMessageDto);
  }

  contactsWritten(rows: readonly (ContactRow & { inserted: boolean })[]): void {
    for (const row of rows) this.record(`p\n${row.jid}`, row.inserted ? 'contact.created' : 'contact.updated', row, toContactDto);
  }

  /** A merged LID-only contact is gone: a client keeping contacts by id drops it, and finds the person at `mergedInto`. */
  contactsMerged(merges: readonly ContactMerge[]): void {
    for (const { id, into } of merges) {
      this.open.delete(`p\n${id}`);
      const data = { id, mergedInto: into };
      this.entries.push({ event: { type: 'contact.deleted', sessionId: this.sessionId, data }, row: null, toData: () => data });
    }
  }

  chatsCreated(rows: readonly ChatRow[]): void {
    for (const row of rows) this.record(`c\n${row.jid}`, 'chat.created', row, toChatDto);
  }

  chatsUpdated(rows: readonly ChatRow[]): void {
    for (const row of rows) this.record(`c\n${row.jid}`, 'chat.updated', row, toChatDto);
  }

  /** `lastMessageAt` alone is no chat event, but a chat event of this batch carries the new value. */
  chatsTouched(rows: readonly ChatRow[]): void {
    for (const row of rows) {
      const entry = this.open.get(`c\n${row.jid}`);
      if (entry) entry.row = row;
    }
  }

  chatsDeleted(jids: readonly string[]): void {
    for (const jid of jids) {
      for (const key of [...this.open.keys()]) {
        if (key === `c\n${jid}` || key.startsWith(`m\n${jid}\n`)) this.open.delete(key);
      }
      this.entries.push({ event: { type: 'chat.deleted', sessionId: this.sessionId, data: { id: jid } }, row: null, toData: () => ({ id: jid }) });
    }
  }

  sessionUpdated(session: SessionEntity): void {
    this.record('s', 'session.updated', session, toSessionDto);
  }

  events(): NewEvent[] {
    return this.entries.map((entry) => ({ ...entry.event, data: entry.toData(entry.row as never) }));
  }

  private record<R>(key: string, type: NewEvent['type'], row: R, toData: (row: R) => unknown): void {
    const entry = this.open.get(key);
    if (entry) {
      entry.row = row;
      return;
    }
    const created: Entry = { event: { type, sessionId: this.sessionId, data: null }, row, toData: toData };
    this.entries.push(created);
    this.open.set(key, created);
  }
}
