import { Module } from '@nestjs/common';
import { ChatsModule } from '../chats/chats.module';
import { EventLogModule } from '../events/event-log.module';
import { MediaModule } from '../media/media.module';
import { OutboxModule } from '../outbox/outbox.module';
import { SessionsModule } from '../sessions/sessions.module';
import { ProvidersModule } from '../whatsapp/providers/providers.module';
import { IdempotencyKeysPrunerService } from './idempotency-keys-pruner.service';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { MessageMediaController } from './message-media.controller';
import { MessageMediaService } from './message-media.service';
import { MessageSendService } from './message-send.service';
import { MediaDownloadService } from './media-download.service';
import { MediaDownloadsRepository } from './media-downloads.repository';
import { OutgoingMediaService } from './outgoing-media.service';
import { OutboxDispatcher } from './outbox-dispatcher.service';
import { MessagesController } from './messages.controller';
import { MessagesRepository } from './messages.repository';
import { MessagesService } from './messages.service';

@Module({
  imports: [SessionsModule, ChatsModule, ProvidersModule, EventLogModule, MediaModule, OutboxModule],
  controllers: [MessagesController, MessageMediaController],
  providers: [
    MessagesRepository,
    MessagesService,
    MessageSendService,
    MessageMediaService,
    OutgoingMediaService,
    MediaDownloadsRepository,
    MediaDownloadService,
    OutboxDispatcher,
    IdempotencyKeysRepository,
    IdempotencyKeysPrunerService,
  ],
  exports: [MessagesRepository, MessagesService, MediaDownloadsRepository, MediaDownloadService, OutboxDispatcher],
})
export class MessagesModule {}
