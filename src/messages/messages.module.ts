import { Module } from '@nestjs/common';
import { ChatsModule } from '../chats/chats.module';
import { EventLogModule } from '../events/event-log.module';
import { SessionsModule } from '../sessions/sessions.module';
import { ProvidersModule } from '../whatsapp/providers/providers.module';
import { IdempotencyKeysPrunerService } from './idempotency-keys-pruner.service';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { MessageSendService } from './message-send.service';
import { MessagesController } from './messages.controller';
import { MessagesRepository } from './messages.repository';
import { MessagesService } from './messages.service';

@Module({
  imports: [SessionsModule, ChatsModule, ProvidersModule, EventLogModule],
  controllers: [MessagesController],
  providers: [MessagesRepository, MessagesService, MessageSendService, IdempotencyKeysRepository, IdempotencyKeysPrunerService],
  exports: [MessagesRepository, MessagesService],
})
export class MessagesModule {}
