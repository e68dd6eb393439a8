import { Module } from '@nestjs/common';
import { EventLogRepository } from './event-log.repository';
import { EventNotifications } from './event-notifications.service';

/**
 * The event log's write side, for every module that changes an organization's stored copy, and
 * the process's commit-time notifications of new events, for the readers (feed, stream, webhooks).
 */
@Module({ providers: [EventLogRepository, EventNotifications], exports: [EventLogRepository, EventNotifications] })
export class EventLogModule {}
