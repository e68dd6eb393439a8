import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { Logger } from 'pino';
import { AuthModule } from './auth/auth.module';
import { ChatsModule } from './chats/chats.module';
import { ContactsModule } from './contacts/contacts.module';
import { GroupsModule } from './groups/groups.module';
import { ConversationsModule } from './conversations/conversations.module';
import { ErrorEnvelopeFilter } from './common/errors/error-envelope.filter';
import { LoggingModule } from './common/logging/logging.module';
import { StrictValidationPipe } from './common/validation/strict-validation.pipe';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { EventStreamOptions } from './events/event-stream.service';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { MessagesModule } from './messages/messages.module';
import { MetricsModule } from './metrics/metrics.module';
import { SessionsModule } from './sessions/sessions.module';
import { BaileysModule, BaileysModuleOptions } from './whatsapp/baileys/baileys.module';
import { IngestionModule } from './ingestion/ingestion.module';
import { ProvidersModule } from './whatsapp/providers/providers.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { WebhookTuning } from './webhooks/webhook-tuning';

export interface AppModuleOptions {
  /** Stand-ins for the `baileys` provider's sockets and time (tests). */
  baileys?: Pick<BaileysModuleOptions, 'socketFactory' | 'clock' | 'tuning' | 'mediaDownloader'>;
  /** Shorter timings of the event stream (tests). */
  events?: Partial<EventStreamOptions>;
  /** The webhook dispatcher's timing (tests: a fast retry schedule). */
  webhooks?: Partial<WebhookTuning>;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        DatabaseModule,
        AuthModule,
        HealthModule,
        MetricsModule,
        SessionsModule,
        ChatsModule,
        MessagesModule,
        ContactsModule,
        GroupsModule,
        IngestionModule,
        ConversationsModule,
        EventsModule.register(options.events),
        WebhooksModule.register(options.webhooks),
        // Always: sessions created with `baileys` need it whatever WA_PROVIDER says now. The package
        // itself is only loaded on the first connection.
        BaileysModule.register({ imports: [IngestionModule, ProvidersModule], ...options.baileys }),
      ],
      providers: [
        { provide: APP_FILTER, useClass: ErrorEnvelopeFilter },
        { provide: APP_PIPE, useClass: StrictValidationPipe },
      ],
    };
  }
}
