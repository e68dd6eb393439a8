import { Module } from '@nestjs/common';
import { EventLogModule } from '../events/event-log.module';
import { OutboxModule } from '../outbox/outbox.module';
import { SessionsModule } from '../sessions/sessions.module';
import { ProvidersModule } from '../whatsapp/providers/providers.module';
import { ChatsController } from './chats.controller';
import { ChatsRepository } from './chats.repository';
import { ChatsService } from './chats.service';

@Module({
  imports: [SessionsModule, ProvidersModule, EventLogModule, OutboxModule],
  controllers: [ChatsController],
  providers: [ChatsRepository, ChatsService],
  exports: [ChatsRepository, ChatsService],
})
export class ChatsModule {}
