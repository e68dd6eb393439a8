import { Module } from '@nestjs/common';
import { ChatsModule } from '../chats/chats.module';
import { MessagesModule } from '../messages/messages.module';
import { SessionsModule } from '../sessions/sessions.module';
import { EventsController } from './external/events.controller';
import { IngestionService } from './ingestion/ingestion.service';
import { ProvidersModule } from './providers/providers.module';

/**
 * Ingestion into the stored copy, and the providers that feed it. A provider module imports this
 * one for `IngestionService` and `ProviderRegistry` (see provider-registry.ts).
 */
@Module({
  imports: [ProvidersModule, SessionsModule, ChatsModule, MessagesModule],
  controllers: [EventsController],
  providers: [IngestionService],
  exports: [IngestionService, ProvidersModule],
})
export class WhatsAppModule {}
