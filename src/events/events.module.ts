import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EventFeedRepository } from './event-feed.repository';
import { EventFeedService } from './event-feed.service';
import { EventLogModule } from './event-log.module';
import { EventLogPrunerService } from './event-log-pruner.service';
import { EventRetentionRepository } from './event-retention.repository';
import { DEFAULT_EVENT_STREAM_OPTIONS, EVENT_STREAM_OPTIONS, EventStreamOptions, EventStreamService } from './event-stream.service';
import { EventsController } from './events.controller';

/** The read side of the event log: the feed, the live stream, and retention. */
@Module({})
export class EventsModule {
  /** `stream` overrides the stream's timings (tests). */
  static register(stream: Partial<EventStreamOptions> = {}): DynamicModule {
    return {
      module: EventsModule,
      imports: [EventLogModule, AuthModule],
      controllers: [EventsController],
      providers: [
        EventFeedRepository,
        EventFeedService,
        EventStreamService,
        EventRetentionRepository,
        EventLogPrunerService,
        { provide: EVENT_STREAM_OPTIONS, useValue: { ...DEFAULT_EVENT_STREAM_OPTIONS, ...stream } },
      ],
    };
  }
}
