import { Injectable } from '@nestjs/common';
import { monotonicFactory, ulid } from 'ulid';
import { ConflictError, NotFoundError, ValidationError } from '../common/errors/app-error';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor';
import { decodePosition, encodePosition, MAX_DATE_MS } from '../common/pagination/keyset-position';
import { Page, toPage } from '../common/pagination/page';
import { isUlid } from '../common/ulid';
import { AppConfig } from '../config/app-config';
import { CreateWebhookDto } from './create-webhook.dto';
import { parseDeliveryId } from './delivery-id';
import { UpdateWebhookDto } from './update-webhook.dto';
import {
  CreatedWebhookDto,
  toDeliveryDto,
  toWebhookDto,
  WebhookDeliveryDto,
  WebhookDto,
  WebhookSecretDto,
  WebhookTestResultDto,
} from './webhook.dto';
import { DeliveryStatus, WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookSecretBox } from './webhook-secret-box';
import { WebhookSender } from './webhook-sender';
import { generateWebhookSecret } from './webhook-signer';
import { urlHostProblem } from './webhook-url-guard';
import { WebhookRecord, WebhooksRepository } from './webhooks.repository';

/** Webhooks an organization may have (API.md §7). */
export const MAX_WEBHOOKS_PER_ORG = 20;
/** How long a rotated-out secret keeps signing beside the new one. */
const PREVIOUS_SECRET_GRACE_MS = 24 * 3_600_000;

const webhookNotFound = (): NotFoundError => new NotFoundError('webhook not found');
const deliveryNotFound = (): NotFoundError => new NotFoundError('delivery not found');
const nextEventUlid = monotonicFactory();

@Injectable()
export class WebhooksService {
  constructor(
    private readonly config: AppConfig,
    private readonly webhooks: WebhooksRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly secrets: WebhookSecretBox,
    private readonly sender: WebhookSender,
  ) {}

  async create(orgId: string, input: CreateWebhookDto): Promise<CreatedWebhookDto> {
    await this.checkUrl(input.url);
    const sessionIds = input.sessionIds ?? [];
    await this.checkSessions(orgId, sessionIds);
    const id = ulid();
    const secret = generateWebhookSecret();
    // Set here, at millisecond precision, so that page cursors (epoch ms) are exact.
    const createdAt = new Date();
    const record = {
      id,
      url: input.url,
      description: input.description ?? null,
      events: input.events,
      sessionIds,
      includeHistory: input.includeHistory ?? false,
      createdAt,
    };
    const inserted = await this.webhooks.insertWithinLimit(
      orgId,
      { ...record, secret: this.secrets.seal(orgId, id, secret) },
      MAX_WEBHOOKS_PER_ORG,
    );
    if (!inserted) {
      throw new ConflictError(`an organization has at most ${MAX_WEBHOOKS_PER_ORG} webhooks`, { limit: MAX_WEBHOOKS_PER_ORG });
    }
    const view = toWebhookDto({ ...record, orgId, enabled: true, disabledReason: null, secret: '', previousSecret: null, updatedAt: createdAt });
    return { ...view, secret };
  }

  async list(orgId: string, limit: number, cursor?: string): Promise<Page<WebhookDto>> {
    const after = cursor ? decodePosition(cursor, isUlid, 0, MAX_DATE_MS) : undefined;
    const rows = await this.webhooks.listPage(orgId, limit + 1, after && { createdAt: new Date(after[0]), id: after[1] });
    return toPage(rows, limit, toWebhookDto, (w) => encodePosition(w.createdAt.getTime(), w.id));
  }

  async get(orgId: string, id: string): Promise<WebhookDto> {
    return toWebhookDto(await this.owned(orgId, id));
  }

  async update(orgId: string, id: string, changes: UpdateWebhookDto): Promise<WebhookDto> {
    await this.owned(orgId, id);
    if (changes.url !== undefined) await this.checkUrl(changes.url);
    if (changes.sessionIds !== undefined) await this.checkSessions(orgId, changes.sessionIds);
    const updated = await this.webhooks.update(orgId, id, changes);
    if (!updated) throw webhookNotFound();
    // Deliveries that waited while it was disabled are due now, on whichever replica is free.
    if (changes.enabled) await this.webhooks.wakeDispatchers(orgId);
    return toWebhookDto(updated);
  }

  async delete(orgId: string, id: string): Promise<void> {
    if (!isUlid(id) || !(await this.webhooks.delete(orgId, id))) throw webhookNotFound();
  }

  async rotateSecret(orgId: string, id: string): Promise<WebhookSecretDto> {
    if (!isUlid(id)) throw webhookNotFound();
    const secret = generateWebhookSecret();
    if (!(await this.webhooks.rotateSecret(orgId, id, this.secrets.seal(orgId, id, secret), PREVIOUS_SECRET_GRACE_MS))) {
      throw webhookNotFound();
    }
    return { secret };
  }

  /** Sends one `webhook.test` event (not recorded in the log) and reports what the receiver did. */
  async test(orgId: string, id: string): Promise<WebhookTestResultDto> {
    const webhook = await this.owned(orgId, id);
    const createdAt = Date.now();
    const eventId = `evt_${nextEventUlid(createdAt)}`;
    const body = JSON.stringify({
      id: eventId,
      type: 'webhook.test',
      createdAt,
      sessionId: null,
      history: false,
      data: { webhookId: webhook.id },
    });
    let secrets: string[];
    try {
      secrets = this.secrets.signingSecrets(orgId, webhook.id, webhook.secret, webhook.previousSecret);
    } catch {
      return { statusCode: null, durationMs: 0, error: 'the signing secret cannot be read (SESSION_ENCRYPTION_KEY changed?)' };
    }
    return this.sender.send(webhook.url, secrets, eventId, body);
  }

  async listDeliveries(
    orgId: string,
    id: string,
    query: { limit: number; cursor?: string; status?: DeliveryStatus },
  ): Promise<Page<WebhookDeliveryDto>> {
    const before = query.cursor ? decodeSeqCursor(query.cursor) : undefined;
    await this.owned(orgId, id);
    const rows = await this.deliveries.listPage(orgId, id, query.limit + 1, query.status, before);
    return toPage(rows, query.limit, toDeliveryDto, (d) => encodeCursor([d.seq]));
  }

  async retryDelivery(orgId: string, id: string, deliveryId: string): Promise<void> {
    const webhook = await this.owned(orgId, id);
    const seq = parseDeliveryId(deliveryId);
    if (seq === null) throw deliveryNotFound();
    const status = await this.deliveries.status(orgId, id, seq);
    if (status === null) throw deliveryNotFound();
    if (status === 'delivered') throw new ConflictError('the delivery was delivered');
    if (!webhook.enabled) throw new ConflictError('the webhook is disabled; enable it to retry its deliveries');
    if (await this.deliveries.makeDue(orgId, id, seq)) await this.webhooks.wakeDispatchers(orgId);
  }

  private async owned(orgId: string, id: string): Promise<WebhookRecord> {
    const webhook = isUlid(id) ? await this.webhooks.find(orgId, id) : null;
    if (!webhook) throw webhookNotFound();
    return webhook;
  }

  private async checkUrl(url: string): Promise<void> {
    if (this.config.webhookAllowPrivateUrls) return;
    const problem = await urlHostProblem(url);
    if (problem) throw ValidationError.field('url', problem);
  }

  private async checkSessions(orgId: string, sessionIds: readonly string[]): Promise<void> {
    const owned = await this.webhooks.ownedSessionIds(orgId, sessionIds);
    const unknown = sessionIds.filter((sid) => !owned.has(sid));
    if (unknown.length > 0) {
      throw new ValidationError('request validation failed', {
        fields: { sessionIds: [`must be sessions of the organization; unknown: ${unknown.join(', ')}`] },
      });
    }
  }
}

/** A delivery page's cursor: the sequence number of the last delivery served. */
function decodeSeqCursor(cursor: string): string {
  const [seq] = decodeCursor<[string]>(cursor, ['string']);
  if (parseDeliveryId(`dlv_${seq}`) === null) throw ValidationError.field('cursor', 'is not a valid cursor');
  return seq;
}
