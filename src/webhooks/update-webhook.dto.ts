import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, ArrayUnique, IsArray, IsBoolean, IsIn } from 'class-validator';
import { StoredText } from '../common/validation/stored-text';
import { MAX_DESCRIPTION_LENGTH, MAX_SESSION_IDS, SUBSCRIBABLE_EVENTS } from './create-webhook.dto';
import { MAX_WEBHOOK_URL_LENGTH } from './webhook-url-guard';
import { IfNotNull, IfPresent, SessionIds, StarAlone, WebhookUrl } from './webhook-validators';

/** A partial update: only the fields sent change. */
export class UpdateWebhookDto {
  @ApiProperty({ required: false, maxLength: MAX_WEBHOOK_URL_LENGTH, example: 'https://hooks.example.com/whatsapp' })
  @IfPresent()
  @WebhookUrl()
  url?: string;

  @ApiProperty({ required: false, nullable: true, example: 'CRM inbox sync' })
  @IfNotNull()
  @StoredText({ min: 0, max: MAX_DESCRIPTION_LENGTH })
  description?: string | null;

  @ApiProperty({
    required: false,
    type: 'array',
    items: { type: 'string', enum: [...SUBSCRIBABLE_EVENTS] },
    minItems: 1,
    uniqueItems: true,
    example: ['*'],
  })
  @IfPresent()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(SUBSCRIBABLE_EVENTS, { each: true })
  @StarAlone()
  events?: string[];

  @ApiProperty({
    required: false,
    type: 'array',
    items: { type: 'string' },
    maxItems: MAX_SESSION_IDS,
    uniqueItems: true,
    description: 'Sessions of the caller\'s organization; empty: every session.',
    example: [],
  })
  @IfPresent()
  @IsArray()
  @ArrayMaxSize(MAX_SESSION_IDS)
  @ArrayUnique()
  @SessionIds()
  sessionIds?: string[];

  /** @example true */
  @IfPresent()
  @IsBoolean()
  includeHistory?: boolean;

  /**
   * `false` stops deliveries (pending ones wait); `true` resumes them and clears `disabledReason`.
   * @example true
   */
  @IfPresent()
  @IsBoolean()
  enabled?: boolean;
}
