import { ApiProperty } from '@nestjs/swagger';
import { EVENT_TYPES, EventType } from '../domain/event-types';

/**
 * One change to the organization's stored copy. The feed, the stream and webhooks send the same
 * bytes for it.
 */
export class EventDto {
  /**
   * `evt_` + a ULID; the same event delivered twice carries the same id.
   * @example "evt_01JDQ7Z3K8Q2V5N9T4W6X0Y1B2"
   */
  id!: string;

  @ApiProperty({ enum: EVENT_TYPES, example: 'message.created' })
  type!: EventType;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    description: 'When the change was made, epoch ms. The log\'s order is commit order, which can differ by a transaction\'s length.',
    example: 1732400000123,
  })
  createdAt!: number;

  /**
   * The session the change belongs to.
   * @example "01HF7Z3K8Q2V5N9T4W6X0Y1B2C"
   */
  sessionId!: string | null;

  /**
   * Part of a history sync (initial history of a paired number, or a batch pushed with `"history": true`).
   * @example false
   */
  history!: boolean;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'The resource after the change, as its `GET` returns it: the message (`message.created`, `message.updated`), the ' +
      'chat (`chat.created`, `chat.updated`), the contact (`contact.created`, `contact.updated`), the session ' +
      '(`session.created`, `session.updated`); `{"id"}` for `chat.deleted` and `session.deleted`, `{"id", "chatId"}` for ' +
      '`message.deleted`, and `{"id", "mergedInto"}` for `contact.deleted` (a contact known by its LID alone merged into ' +
      'its phone-number contact once WhatsApp revealed the mapping).',
    example: {
      id: '3EB0C1A2B3C4D5E6',
      chatId: '6281234567890@s.whatsapp.net',
      fromMe: false,
      senderId: '6281234567890@s.whatsapp.net',
      timestamp: 1732400000000,
      type: 'text',
      text: 'halo',
      status: null,
    },
  })
  data!: Record<string, unknown>;
}

export class EventPageDto {
  /** Events in commit order, oldest first. */
  data!: EventDto[];

  /**
   * Pass as `after` to continue the feed. Never null: when nothing new came it is the same
   * position again.
   * @example "WyJldiIsNDgxNywxMjBd.oQSkKPbnxo5B"
   */
  nextCursor!: string;
}
