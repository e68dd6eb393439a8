import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { Logger } from 'pino';
import { LOGGER } from '../common/logging/logging.module';
import { AppConfig } from '../config/app-config';
import { EVENTS_CHANNEL } from './event-log.repository';

export type EventListener = (orgId: string) => void;
/** Told a notification's payload on another channel, or `'*'` after a reconnect. */
export type ChannelListener = (payload: string) => void;

const RECONNECT_MS = 1000;

/**
 * One `LISTEN` connection per process: tells subscribers that an organization's log grew (the
 * notification is sent when the writing transaction commits). A notification is only a wake-up:
 * readers query the log, so one lost while the connection is down delays events, never loses them.
 * Subscribers should also poll now and then for that reason; after a reconnect every subscriber
 * is woken with `'*'` (any organization).
 */
@Injectable()
export class EventNotifications implements OnModuleInit, OnApplicationShutdown {
  private readonly listeners = new Set<EventListener>();
  /** Other channels on the same connection (replicas coordinating through PostgreSQL). */
  private readonly channels = new Map<string, Set<ChannelListener>>();
  private client: Client | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listens on `channel` (a lower-case identifier) too; `'*'` after a reconnect, as for events. */
  listen(channel: string, listener: ChannelListener): () => void {
    if (!/^[a-z_]+$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
    let listeners = this.channels.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.channels.set(channel, listeners);
      // Before the connection is up, connect() listens on every channel known by then.
      this.client?.query(`LISTEN ${channel}`).catch((error: unknown) => this.logger.warn({ err: error, channel }, 'LISTEN failed'));
    }
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  onModuleInit(): void {
    void this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: 'whatsapp-gateway-listen' });
    client.on('notification', (message) => {
      if (message.channel === EVENTS_CHANNEL) this.emit(message.payload ?? '*');
      else this.emitOn(message.channel, message.payload ?? '*');
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'event notification connection lost');
      this.reconnectLater(client);
    });
    client.on('end', () => this.reconnectLater(client));
    try {
      await client.connect();
      // The app may have stopped while this connection was being made: nothing would end it.
      if (this.stopped) {
        client.removeAllListeners('end');
        await client.end();
        return;
      }
      this.client = client;
      await client.query([EVENTS_CHANNEL, ...this.channels.keys()].map((channel) => `LISTEN ${channel}`).join('; '));
      // Whatever was committed while no connection listened is found by the readers' next query.
      this.emit('*');
      for (const channel of this.channels.keys()) this.emitOn(channel, '*');
    } catch (error) {
      this.logger.warn({ err: error }, 'event notification connection failed');
      this.reconnectLater(client);
    }
  }

  private reconnectLater(client: Client): void {
    if (this.stopped || this.retry) return;
    if (this.client === client) this.client = null;
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect();
    }, RECONNECT_MS);
    this.retry.unref();
  }

  private emitOn(channel: string, payload: string): void {
    for (const listener of this.channels.get(channel) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        this.logger.error({ err: error, channel }, 'notification listener failed');
      }
    }
  }

  private emit(orgId: string): void {
    for (const listener of this.listeners) {
      try {
        listener(orgId);
      } catch (error) {
        this.logger.error({ err: error }, 'event listener failed');
      }
    }
  }
}
