import { Module } from '@nestjs/common';
import { EventLogRepository } from './event-log.repository';

/** The event log's write side, for every module that changes an organization's stored copy. */
@Module({ providers: [EventLogRepository], exports: [EventLogRepository] })
export class EventLogModule {}
