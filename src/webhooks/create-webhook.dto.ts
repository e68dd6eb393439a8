import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsBoolean, IsIn, IsOptional } from 'class-validator';
import { StoredText } from '../common/validation/stored-text';
import { EVENT_TYPES } from '../domain/event-types';
import { MAX_WEBHOOK_URL_LENGTH } from './webhook-url-guard';
import { IfNotNull, SessionIds, StarAlone, WebhookUrl } from './webhook-validators';

export const MAX_DESCRIPTION_LENGTH = 500;
export const MAX_SESSION_IDS = 100;
/** What `events` may name: the event types, or `*` alone for all of them. */
export const SUBSCRIBABLE_EVENTS = [...EVENT_TYPES, '*'] as const;

export class CreateWebhookDto {
  @ApiProperty({
    maxLength: MAX_WEBHOOK_URL_LENGTH,
    description:
      'Where events are POSTed: `https://` or `http://`, no credentials. A host that is or resolves to a loopback, ' +
      'private or otherwise non-public address is refused (unless `WEBHOOK_ALLOW_PRIVATE_URLS=true`).',
    example: 'https://hooks.example.com/whatsapp',
  })
  @WebhookUrl()
  url!: string;

  @ApiProperty({ required: false, nullable: true, description: 'What the webhook is for.', example: 'CRM inbox sync' })
  @IfNotNull()
  @StoredText({ min: 0, max: MAX_DESCRIPTION_LENGTH })
  description?: string | null;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...SUBSCRIBABLE_EVENTS] },
    minItems: 1,
    uniqueItems: true,
    description: 'The event types to deliver, or `["*"]` for all.',
    example: ['message.created', 'message.updated'],
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(SUBSCRIBABLE_EVENTS, { each: true })
  @StarAlone()
  events!: string[];

  @ApiProperty({
    required: false,
    type: 'array',
    items: { type: 'string' },
    maxItems: MAX_SESSION_IDS,
    uniqueItems: true,
    description: 'Only events of these sessions (of the caller\'s organization); empty or absent: every session.',
    example: [],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_SESSION_IDS)
  @ArrayUnique()
  @SessionIds()
  sessionIds?: string[];

  /**
   * Also deliver events of history syncs (`history: true`), which can be many.
   * @example false
   */
  @IsOptional()
  @IsBoolean()
  includeHistory?: boolean;
}
