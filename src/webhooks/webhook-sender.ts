import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Agent, request } from 'undici';
import { AppConfig } from '../config/app-config';
import { webhookSignature } from './webhook-signer';
import { publicOnlyConnector } from './webhook-url-guard';

/** What one POST to a receiver came to. `error` is null exactly when the receiver answered 2xx. */
export interface AttemptResult {
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

const IDLE_CONNECTION_MS = 30_000;
const MAX_ERROR_LENGTH = 500;

function packageVersion(): string {
  // The same relative place from src/webhooks and from dist/webhooks.
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return version;
}

function describeStatus(statusCode: number): string {
  if (statusCode >= 300 && statusCode < 400) return `receiver answered ${statusCode}; redirects are not followed`;
  return `receiver answered ${statusCode}`;
}

function describeError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const text = code && message && !message.includes(code) ? `${code}: ${message}` : (message ?? String(error));
  return text.slice(0, MAX_ERROR_LENGTH);
}

/**
 * POSTs signed events to receivers (Standard Webhooks headers) through one pooled keep-alive
 * client. Unless `WEBHOOK_ALLOW_PRIVATE_URLS` is true, every connection is checked against the
 * address it is made to; redirects are never followed; a receiver gets `WEBHOOK_TIMEOUT_MS` to
 * answer.
 */
@Injectable()
export class WebhookSender implements OnApplicationShutdown {
  private readonly agent: Agent;
  private readonly userAgent = `whatsapp-gateway/${packageVersion()}`;
  private readonly timeoutMs: number;

  constructor(config: AppConfig) {
    this.timeoutMs = config.webhookTimeoutMs;
    this.agent = new Agent({
      connect: config.webhookAllowPrivateUrls ? { timeout: this.timeoutMs } : publicOnlyConnector(this.timeoutMs),
      keepAliveTimeout: IDLE_CONNECTION_MS,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  /**
   * Sends `body` (the event JSON, byte for byte) signed with each of `secrets`. `abort` ends the
   * attempt early (shutdown); never throws.
   */
  async send(url: string, secrets: readonly string[], eventId: string, body: string, abort?: AbortSignal): Promise<AttemptResult> {
    const started = performance.now();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = abort ? AbortSignal.any([timeout, abort]) : timeout;
    const timestamp = Math.floor(Date.now() / 1000);
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await request(url, {
        dispatcher: this.agent,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': this.userAgent,
          'webhook-id': eventId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': webhookSignature(secrets, eventId, timestamp, body),
        },
        body,
        signal,
      });
      // Read (and drop) the answer so that the connection can serve the next delivery.
      await response.body.dump();
      const delivered = response.statusCode >= 200 && response.statusCode < 300;
      return { statusCode: response.statusCode, durationMs: elapsed(), error: delivered ? null : describeStatus(response.statusCode) };
    } catch (error) {
      const reason = timeout.aborted
        ? `no answer within ${this.timeoutMs} ms`
        : abort?.aborted
          ? 'abandoned at shutdown'
          : describeError(error);
      return { statusCode: null, durationMs: elapsed(), error: reason };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.destroy();
  }
}
