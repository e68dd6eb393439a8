import { ApiProperty } from '@nestjs/swagger';
import { ChatType } from '../domain/jid';
import { ChatRow } from './chats.repository';

/** A chat of the gateway's stored copy. */
export class ChatDto {
  /**
   * The chat's JID: `<digits>@s.whatsapp.net` (direct), `<digits>@g.us` (group) or `<digits>@lid`.
   * @example "6281234567890@s.whatsapp.net"
   */
  id!: string;

  /**
   * The contact's or group's name, when known.
   * @example "Budi"
   */
  name!: string | null;

  @ApiProperty({ enum: ['direct', 'group'], example: 'direct' })
  type!: ChatType;

  /** @example false */
  archived!: boolean;

  /** @example true */
  pinned!: boolean;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    nullable: true,
    description: 'Epoch ms until which the chat is muted, -1 for muted with no end, null when not muted.',
    example: 1732486400000,
  })
  mutedUntil!: number | null;

  @ApiProperty({ type: 'integer', minimum: 0, example: 2 })
  unreadCount!: number;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    nullable: true,
    description: 'Epoch ms of the newest stored message; null when no message is stored.',
    example: 1732400000000,
  })
  lastMessageAt!: number | null;
}

export class ChatPageDto {
  data!: ChatDto[];

  /** Pass as `cursor` for the next page; null when there are no more chats. */
  nextCursor!: string | null;
}

export function toChatDto(row: ChatRow): ChatDto {
  return {
    id: row.jid,
    name: row.name,
    type: row.type,
    archived: row.archived,
    pinned: row.pinned,
    mutedUntil: row.muted_until === null ? null : Number(row.muted_until),
    unreadCount: row.unread_count,
    lastMessageAt: row.last_message_at === null ? null : Number(row.last_message_at),
  };
}
