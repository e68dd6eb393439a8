import { IsOptional, IsString, MaxLength } from 'class-validator';
import { EventFilterQueryDto } from './event-feed-query.dto';

export class EventStreamQueryDto extends EventFilterQueryDto {
  /**
   * A cursor (a feed `nextCursor` or an event's SSE `id`) to resume after. The `Last-Event-ID`
   * header wins over it. Without either, the stream starts with the events committed from now on.
   */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  after?: string;
}
