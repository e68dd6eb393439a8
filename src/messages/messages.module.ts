import { Module } from '@nestjs/common';
import { ChatsModule } from '../chats/chats.module';
import { EventLogModule } from '../events/event-log.module';
import { OutboxModule } from '../outbox/outbox.module';
import { SessionsModule } from '../sessions/sessions.module';
import { ProvidersModule } from '../whatsapp/providers/providers.module';
import { IdempotencyKeysPrunerService } from './idempotency-keys-pruner.service';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { MessageSendService } from './message-send.service';
import { OutboxDispatcher } from './outbox-dispatcher.service';
import { MessagesController } from './messages.controller';
import { MessagesRepository } from './messages.repository';
import { MessagesService } from './messages.service';

@Module({
  imports: [SessionsModule, ChatsModule, ProvidersModule, EventLogModule, OutboxModule],
  controllers: [MessagesController],
  providers: [
    MessagesRepository,
    MessagesService,
    MessageSendService,
    OutboxDispatcher,
    IdempotencyKeysRepository,
    IdempotencyKeysPrunerService,
  ],
  exports: [MessagesRepository, MessagesService],
})
export class MessagesModule {}
