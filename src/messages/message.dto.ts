import { ApiProperty } from '@nestjs/swagger';
import { MESSAGE_STATUSES, MESSAGE_TYPES, MessageStatus, MessageType } from '../domain/gateway-events';
import { MessageRow } from './messages.repository';

/** A message of the gateway's stored copy. */
export class MessageDto {
  /**
   * WhatsApp's message id; unique within its chat.
   * @example "3EB0C1A2B3C4D5E6"
   */
  id!: string;

  /**
   * The chat's JID.
   * @example "120363025246125888@g.us"
   */
  chatId!: string;

  /**
   * Sent from the attached number.
   * @example false
   */
  fromMe!: boolean;

  /**
   * Who sent it, when known.
   * @example "6281234567890@s.whatsapp.net"
   */
  senderId!: string | null;

  @ApiProperty({ type: 'integer', format: 'int64', description: 'When it was sent, epoch ms.', example: 1732400000000 })
  timestamp!: number;

  @ApiProperty({ enum: MESSAGE_TYPES, example: 'text' })
  type!: MessageType;

  /**
   * The text or caption; null when there is none.
   * @example "halo"
   */
  text!: string | null;

  @ApiProperty({
    // null listed too: in OpenAPI 3.0 a nullable enum only admits null when the enum names it.
    enum: [...MESSAGE_STATUSES, null],
    nullable: true,
    description: 'Delivery status of an outgoing message; null for an incoming one.',
    example: null,
  })
  status!: MessageStatus | null;
}

export class MessagePageDto {
  data!: MessageDto[];

  /** Pass as `cursor` for the next (older) page; null when there are no more messages. */
  nextCursor!: string | null;
}

export function toMessageDto(row: MessageRow): MessageDto {
  return {
    id: row.id,
    chatId: row.chat_jid,
    fromMe: row.from_me,
    senderId: row.sender_jid,
    timestamp: Number(row.ts),
    type: row.type,
    text: row.text,
    status: row.status,
  };
}
