import { Module } from '@nestjs/common';
import { ChatsModule } from '../chats/chats.module';
import { ContactsModule } from '../contacts/contacts.module';
import { GroupsModule } from '../groups/groups.module';
import { EventLogModule } from '../events/event-log.module';
import { MessagesModule } from '../messages/messages.module';
import { SessionsModule } from '../sessions/sessions.module';
import { IngestionSink } from '../whatsapp/ingestion-sink';
import { IngestEventsController } from './ingest-events.controller';
import { IngestionService } from './ingestion.service';

/**
 * Provider events → the stored copy. It sits above sessions, chats, messages, contacts and groups (whose
 * repositories it writes through) and binds the providers' `IngestionSink` to its service, so
 * that no provider imports a domain repository.
 */
@Module({
  imports: [SessionsModule, ChatsModule, MessagesModule, ContactsModule, GroupsModule, EventLogModule],
  controllers: [IngestEventsController],
  providers: [IngestionService, { provide: IngestionSink, useExisting: IngestionService }],
  exports: [IngestionService, IngestionSink],
})
export class IngestionModule {}
