import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateBy } from 'class-validator';
import { isUlid } from '../common/ulid';
import { ToInteger } from '../common/validation/query-transforms';
import { EVENT_TYPES } from '../domain/event-types';

export const DEFAULT_FEED_LIMIT = 100;
export const MAX_FEED_WAIT_SECONDS = 30;

/** `a,b` (and a repeated `types=a&types=b`) become `['a', 'b']`; anything else is left to fail validation. */
const ToList = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => {
    const parts: unknown[] = Array.isArray(value) ? value : [value];
    return parts.every((part) => typeof part === 'string') ? parts.flatMap((part) => part.split(',')) : value;
  });

const MAX_TYPES = 32;

/** One validator for the whole list, so that the document shows the parameter as the string it is. */
const IsEventTypeList = (): PropertyDecorator =>
  ValidateBy({
    name: 'isEventTypeList',
    validator: {
      validate: (value: unknown) =>
        Array.isArray(value) &&
        value.length > 0 &&
        value.length <= MAX_TYPES &&
        value.every((type) => (EVENT_TYPES as readonly unknown[]).includes(type)),
      defaultMessage: () => `must be a comma-separated list of event types (${EVENT_TYPES.join(', ')})`,
    },
  });

const IsSessionId = (): PropertyDecorator =>
  ValidateBy({
    name: 'isSessionId',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isUlid(value),
      defaultMessage: () => 'must be a session id (a ULID in upper case)',
    },
  });

/** The filters that the feed and the stream share. */
export class EventFilterQueryDto {
  @ApiPropertyOptional({
    type: 'string',
    description: `Only events of these types, comma-separated: ${EVENT_TYPES.map((t) => `\`${t}\``).join(', ')}. An unknown type is a 422.`,
    example: 'message.created,message.updated',
  })
  @IsOptional()
  @ToList()
  @IsEventTypeList()
  types?: string[];

  @ApiPropertyOptional({
    type: 'string',
    description: 'Only events of this session (a session of another organization simply has none).',
    example: '01HF7Z3K8Q2V5N9T4W6X0Y1B2C',
  })
  @IsOptional()
  @IsSessionId()
  sessionId?: string;
}

export class EventFeedQueryDto extends EventFilterQueryDto {
  /** A `nextCursor` of the feed: the page starts after it. Omitted: the oldest retained event. */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  after?: string;

  /** Events per page. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: DEFAULT_FEED_LIMIT })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number = DEFAULT_FEED_LIMIT;

  /** Long-poll: when nothing is there yet, answer as soon as an event comes, or empty after this many seconds. */
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_FEED_WAIT_SECONDS, default: 0 })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(MAX_FEED_WAIT_SECONDS)
  wait?: number = 0;
}
