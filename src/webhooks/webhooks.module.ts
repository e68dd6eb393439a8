import { DynamicModule, Module } from '@nestjs/common';
import { EventLogModule } from '../events/event-log.module';
import { SessionEncryptionKeyService } from '../whatsapp/baileys/session-encryption-key.service';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookSecretBox } from './webhook-secret-box';
import { WebhookSender } from './webhook-sender';
import { DEFAULT_WEBHOOK_TUNING, WEBHOOK_TUNING, WebhookTuning } from './webhook-tuning';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** Webhook endpoints (API.md §7) and the dispatcher that delivers the event log to them. */
@Module({})
export class WebhooksModule {
  /** `tuning` replaces the dispatcher's timing (tests: a fast retry schedule). */
  static register(tuning: Partial<WebhookTuning> = {}): DynamicModule {
    return {
      module: WebhooksModule,
      imports: [EventLogModule],
      controllers: [WebhooksController],
      providers: [
        { provide: WEBHOOK_TUNING, useValue: { ...DEFAULT_WEBHOOK_TUNING, ...tuning } },
        WebhooksRepository,
        WebhookDeliveriesRepository,
        WebhooksService,
        WebhookDispatcher,
        WebhookSender,
        WebhookSecretBox,
        WebhookMetrics,
        SessionEncryptionKeyService,
      ],
    };
  }
}
