import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';
import { MESSAGE_STATUSES, MESSAGE_TYPES, SESSION_STATUSES } from '../gateway-events';

// These classes document the body; it is validated by `validateEventBatch`, which also names the
// index of a bad event.

const CHAT_JID_PATTERN = '^([0-9]{1,24}@s\\.whatsapp\\.net|[0-9]{1,24}(-[0-9]{1,24})?@g\\.us|[0-9]{1,24}@lid)$';

export class SessionStatusEventDto {
  @ApiProperty({ enum: ['session.status'] })
  type!: 'session.status';

  @ApiProperty({ enum: SESSION_STATUSES, example: 'connected' })
  status!: string;

  @ApiProperty({
    required: false,
    nullable: true,
    pattern: '^[0-9]{5,20}$',
    description: 'Digits of the attached number; absent leaves it unchanged, null clears it.',
    example: '6281234567890',
  })
  phoneNumber?: string | null;
}

export class IngestedChatDto {
  @ApiProperty({ pattern: CHAT_JID_PATTERN, example: '6281234567890@s.whatsapp.net' })
  id!: string;

  @ApiProperty({ required: false, nullable: true, minLength: 1, maxLength: 256, example: 'Budi' })
  name?: string | null;

  /** @example false */
  archived?: boolean;

  /** @example false */
  pinned?: boolean;

  @ApiProperty({
    required: false,
    nullable: true,
    type: 'integer',
    format: 'int64',
    minimum: -1,
    description: 'Epoch ms; -1 is muted with no end, null not muted.',
    example: null,
  })
  mutedUntil?: number | null;

  @ApiProperty({ required: false, type: 'integer', minimum: 0, maximum: 2147483647, example: 0 })
  unreadCount?: number;
}

export class ChatUpsertEventDto {
  @ApiProperty({ enum: ['chat.upsert'] })
  type!: 'chat.upsert';

  @ApiProperty({ description: 'Creates the chat, or changes only the fields present.' })
  chat!: IngestedChatDto;
}

export class IngestedMessageDto {
  @ApiProperty({ pattern: '^[A-Za-z0-9._:@-]{1,128}$', example: '3EB0C1A2B3C4D5E6' })
  id!: string;

  @ApiProperty({ pattern: CHAT_JID_PATTERN, example: '6281234567890@s.whatsapp.net' })
  chatId!: string;

  /** @example false */
  fromMe!: boolean;

  @ApiProperty({
    required: false,
    nullable: true,
    pattern: '^[0-9]{1,24}@(s\\.whatsapp\\.net|lid)$',
    description: 'Absent is null.',
    example: '6281234567890@s.whatsapp.net',
  })
  senderId?: string | null;

  @ApiProperty({ type: 'integer', format: 'int64', minimum: 0, description: 'Epoch ms.', example: 1732400000000 })
  timestamp!: number;

  @ApiProperty({ enum: MESSAGE_TYPES, example: 'text' })
  type!: string;

  @ApiProperty({ required: false, nullable: true, maxLength: 65536, description: 'Absent is null.', example: 'halo' })
  text?: string | null;

  @ApiProperty({ required: false, nullable: true, enum: [...MESSAGE_STATUSES, null], description: 'Absent is null.', example: null })
  status?: string | null;
}

export class MessageUpsertEventDto {
  @ApiProperty({ enum: ['message.upsert'] })
  type!: 'message.upsert';

  @ApiProperty({ description: 'Stores the message, or replaces the stored one with the same chat and id.' })
  message!: IngestedMessageDto;
}

export class MessageStatusEventDto {
  @ApiProperty({ enum: ['message.status'] })
  type!: 'message.status';

  @ApiProperty({ pattern: CHAT_JID_PATTERN, example: '6281234567890@s.whatsapp.net' })
  chatId!: string;

  /** @example "3EB0C1A2B3C4D5E6" */
  messageId!: string;

  @ApiProperty({
    enum: MESSAGE_STATUSES,
    description: 'Applied only if further along than the stored status; unknown messages are skipped.',
    example: 'read',
  })
  status!: string;
}

export class ChatDeleteEventDto {
  @ApiProperty({ enum: ['chat.delete'] })
  type!: 'chat.delete';

  @ApiProperty({ pattern: CHAT_JID_PATTERN, example: '6281234567890@s.whatsapp.net' })
  chatId!: string;
}

const EVENT_TYPES = {
  'session.status': SessionStatusEventDto,
  'chat.upsert': ChatUpsertEventDto,
  'message.upsert': MessageUpsertEventDto,
  'message.status': MessageStatusEventDto,
  'chat.delete': ChatDeleteEventDto,
};

@ApiExtraModels(...Object.values(EVENT_TYPES))
export class IngestEventsDto {
  @ApiProperty({
    type: 'array',
    minItems: 1,
    maxItems: 1000,
    description: 'Applied in order.',
    items: {
      oneOf: Object.values(EVENT_TYPES).map((model) => ({ $ref: getSchemaPath(model) })),
      discriminator: {
        propertyName: 'type',
        mapping: Object.fromEntries(Object.entries(EVENT_TYPES).map(([type, model]) => [type, getSchemaPath(model)])),
      },
    },
  })
  events!: unknown[];
}

export class IngestResultDto {
  @ApiProperty({ type: 'integer', description: 'The number of events in the batch, all applied.', example: 5 })
  accepted!: number;
}
