import { Module } from '@nestjs/common';
import { ChatsModule } from '../chats/chats.module';
import { EventLogModule } from '../events/event-log.module';
import { IngestionModule } from '../ingestion/ingestion.module';
import { MessagesModule } from '../messages/messages.module';
import { OutboxModule } from '../outbox/outbox.module';
import { SessionsModule } from '../sessions/sessions.module';
import { ProvidersModule } from '../whatsapp/providers/providers.module';
import { ConversationsController } from './conversations.controller';
import { ConversationsService } from './conversations.service';

/** Replies aside (they are sends), what a person does in a chat (API.md §9): it sits above ingestion, which stores the effect. */
@Module({
  imports: [SessionsModule, ChatsModule, MessagesModule, IngestionModule, EventLogModule, OutboxModule, ProvidersModule],
  controllers: [ConversationsController],
  providers: [ConversationsService],
})
export class ConversationsModule {}
