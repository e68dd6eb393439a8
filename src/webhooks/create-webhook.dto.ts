import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  ValidateBy,
  ValidateIf,
  ValidationArguments,
} from 'class-validator';
import { isUlid } from '../common/ulid';
import { storedTextProblem } from '../common/validation/stored-text';
import { EVENT_TYPES } from '../domain/event-types';
import { MAX_WEBHOOK_URL_LENGTH, urlFormProblem } from './webhook-url-guard';

export const MAX_DESCRIPTION_LENGTH = 500;
export const MAX_SESSION_IDS = 100;
/** What `events` may name: the event types, or `*` alone for all of them. */
export const SUBSCRIBABLE_EVENTS = [...EVENT_TYPES, '*'] as const;

/** Client text that fits its column as sent: valid Unicode, no NUL, `min..max` code points. */
export const StoredText = (limits: { min: number; max: number }): PropertyDecorator =>
  ValidateBy({
    name: 'storedText',
    validator: {
      validate: (value: unknown) => storedTextProblem(value, limits) === null,
      defaultMessage: (args?: ValidationArguments) => storedTextProblem(args?.value, limits) ?? 'is not valid text',
    },
  });

/** An absolute http(s) URL without credentials (API.md §7); where it points is checked by the service. */
export const WebhookUrl = (): PropertyDecorator =>
  ValidateBy({
    name: 'webhookUrl',
    validator: {
      validate: (value: unknown) => urlFormProblem(value) === null,
      defaultMessage: (args?: ValidationArguments) => urlFormProblem(args?.value) ?? 'is not a valid URL',
    },
  });

/** Each member is a session id (a ULID); whose session it is, the service checks. */
export const SessionIds = (): PropertyDecorator =>
  ValidateBy(
    {
      name: 'sessionIds',
      validator: { validate: (value: unknown) => typeof value === 'string' && isUlid(value), defaultMessage: () => 'must be session ids' },
    },
    { each: true },
  );

/** `["*"]` subscribes to everything; next to other types it would be ambiguous. */
export const StarAlone = (): PropertyDecorator =>
  ValidateBy({
    name: 'starAlone',
    validator: {
      validate: (value: unknown) => !Array.isArray(value) || !value.includes('*') || value.length === 1,
      defaultMessage: () => 'must be ["*"] alone or a list of event types',
    },
  });

/** Optional, but `null` is a wrong type, not an absent field. */
export const IfPresent = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** Optional and nullable. */
export const IfNotNull = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined && value !== null);

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

  @ApiProperty({
    required: false,
    nullable: true,
    type: 'string',
    maxLength: MAX_DESCRIPTION_LENGTH,
    description: 'What the webhook is for.',
    example: 'CRM inbox sync',
  })
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
    example: ['01HF7Z3K8Q2V5N9T4W6X0Y1B2C'],
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
