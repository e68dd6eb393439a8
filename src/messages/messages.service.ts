import { Injectable } from '@nestjs/common';
import { Page, toPage } from '../common/pagination/page';
import { chatJidOf, chatNotFound } from '../chats/chat-id';
import { decodePosition, encodePosition } from '../common/pagination/keyset-position';
import { isSessionId, sessionNotFound } from '../sessions/session-id';
import { MessageDto, toMessageDto } from './message.dto';
import { messageIdOf, messageNotFound } from './message-id';
import { MessageRow, MessagesRepository, ScopedMessages } from './messages.repository';

/** The rows of a scoped lookup, or the 404 it calls for. */
function foundRows(result: ScopedMessages): MessageRow[] {
  if (!result.sessionFound) throw sessionNotFound();
  if (!result.chatFound) throw chatNotFound();
  return result.rows;
}

/** Reads of the stored message history; sending is `MessageSendService`. */
@Injectable()
export class MessagesService {
  constructor(private readonly repository: MessagesRepository) {}

  /** Newest first, `(timestamp, id)` descending; pages never skip or repeat while messages arrive. */
  async list(orgId: string, sessionId: string, cid: string, limit: number, cursor?: string): Promise<Page<MessageDto>> {
    const after = cursor ? decodePosition(cursor, (id) => messageIdOf(id) !== null) : undefined;
    if (!isSessionId(sessionId)) throw sessionNotFound();
    const rows = foundRows(await this.repository.listPage(orgId, sessionId, chatJidOf(cid), limit + 1, after));
    return toPage(rows, limit, toMessageDto, (row) => encodePosition(Number(row.ts), row.id));
  }

  async get(orgId: string, sessionId: string, cid: string, mid: string): Promise<MessageDto> {
    if (!isSessionId(sessionId)) throw sessionNotFound();
    const [row] = foundRows(await this.repository.findOne(orgId, sessionId, chatJidOf(cid), messageIdOf(mid)));
    if (!row) throw messageNotFound();
    return toMessageDto(row);
  }
}
