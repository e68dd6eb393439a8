import { ApiProperty } from '@nestjs/swagger';
import { SUBSCRIBABLE_EVENTS } from './create-webhook.dto';
import { toDeliveryId } from './delivery-id';
import { DELIVERY_STATUSES, DeliveryRecord, DeliveryStatus } from './webhook-deliveries.repository';
import { WebhookRecord } from './webhooks.repository';

/** An endpoint that receives the organization's events. Its signing secret is never part of it. */
export class WebhookDto {
  /**
   * ULID of the webhook.
   * @example "01HF7Z3K8Q2V5N9T4W6X0Y1B2C"
   */
  id!: string;

  /** @example "https://hooks.example.com/whatsapp" */
  url!: string;

  /** @example "CRM inbox sync" */
  description!: string | null;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...SUBSCRIBABLE_EVENTS] },
    description: 'The event types delivered; `["*"]`: all.',
    example: ['message.created', 'message.updated'],
  })
  events!: string[];

  @ApiProperty({
    type: 'array',
    items: { type: 'string' },
    description: 'Only events of these sessions; empty: every session of the organization.',
    example: ['01HF7Z3K8Q2V5N9T4W6X0Y1B2C'],
  })
  sessionIds!: string[];

  /**
   * Whether events of history syncs are delivered too.
   * @example false
   */
  includeHistory!: boolean;

  /**
   * Whether deliveries are made. The gateway disables a webhook whose receiver answers 410, or
   * whose every attempt failed for 24 h.
   * @example true
   */
  enabled!: boolean;

  /**
   * Why the webhook is disabled; null while enabled.
   * @example null
   */
  disabledReason!: string | null;

  @ApiProperty({ type: 'integer', format: 'int64', description: 'Epoch ms.', example: 1732400000000 })
  createdAt!: number;

  @ApiProperty({ type: 'integer', format: 'int64', description: 'Epoch ms of the last change.', example: 1732400000000 })
  updatedAt!: number;
}

/** A webhook just created: the only answer, with rotation's, that carries the secret. */
export class CreatedWebhookDto extends WebhookDto {
  /**
   * The signing secret (Standard Webhooks format). Shown only here and on rotation: store it now.
   * @example "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6/hXPtmz2Sg="
   */
  secret!: string;
}

export class WebhookPageDto {
  data!: WebhookDto[];

  /** Pass as `cursor` for the next page; null when there are no more webhooks. */
  nextCursor!: string | null;
}

export class WebhookSecretDto {
  /**
   * The new signing secret. The previous one keeps signing beside it for 24 h.
   * @example "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6/hXPtmz2Sg="
   */
  secret!: string;
}

/** What the receiver did with a `webhook.test` event. */
export class WebhookTestResultDto {
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'The receiver\'s HTTP status; null when it did not answer (refused, timed out, not allowed).',
    example: 200,
  })
  statusCode!: number | null;

  @ApiProperty({ type: 'integer', description: 'How long the attempt took, in ms.', example: 42 })
  durationMs!: number;

  /**
   * Why the attempt did not count as delivered; null for a 2xx.
   * @example null
   */
  error!: string | null;
}

/** One event's delivery to one webhook. */
export class WebhookDeliveryDto {
  /** @example "dlv_4821" */
  id!: string;

  /** @example "evt_01JDQ7Z3K8Q2V5N9T4W6X0Y1B2" */
  eventId!: string;

  /** @example "message.created" */
  eventType!: string;

  @ApiProperty({ enum: DELIVERY_STATUSES, example: 'delivered' })
  status!: DeliveryStatus;

  @ApiProperty({ type: 'integer', description: 'Attempts made so far.', example: 1 })
  attempts!: number;

  @ApiProperty({ type: 'integer', format: 'int64', nullable: true, description: 'Epoch ms; null before the first attempt.', example: 1732400000150 })
  lastAttemptAt!: number | null;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    nullable: true,
    description: 'Epoch ms of the next automatic attempt while `pending`; null otherwise.',
    example: null,
  })
  nextAttemptAt!: number | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'The receiver\'s status at the last attempt.', example: 200 })
  lastStatusCode!: number | null;

  /**
   * Why the last attempt failed; null after a 2xx.
   * @example null
   */
  lastError!: string | null;

  @ApiProperty({ type: 'integer', format: 'int64', nullable: true, description: 'Epoch ms of the 2xx.', example: 1732400000190 })
  deliveredAt!: number | null;
}

export class WebhookDeliveryPageDto {
  data!: WebhookDeliveryDto[];

  /** Pass as `cursor` for the next page; null when there are no more deliveries. */
  nextCursor!: string | null;
}

export function toWebhookDto(w: WebhookRecord): WebhookDto {
  return {
    id: w.id,
    url: w.url,
    description: w.description,
    events: w.events,
    sessionIds: w.sessionIds,
    includeHistory: w.includeHistory,
    enabled: w.enabled,
    disabledReason: w.disabledReason,
    createdAt: w.createdAt.getTime(),
    updatedAt: w.updatedAt.getTime(),
  };
}

export function toDeliveryDto(d: DeliveryRecord): WebhookDeliveryDto {
  return {
    id: toDeliveryId(d.seq),
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    lastAttemptAt: d.lastAttemptAt?.getTime() ?? null,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.getTime() : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    deliveredAt: d.deliveredAt?.getTime() ?? null,
  };
}
