import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { LOGGER } from '../common/logging/logging.module';
import { sleep } from '../common/time';
import { AppConfig, ProviderName } from '../config/app-config';
import { ProviderRegistry } from '../whatsapp/providers/provider-registry';
import { ProviderSession, WhatsAppProvider } from '../whatsapp/whatsapp-provider';
import { SessionOwnershipService } from './session-ownership.service';
import { SessionsRepository } from './sessions.repository';

/** Providers whose WhatsApp connection lives in this process, so that exactly one replica may hold it. */
const HELD_IN_PROCESS: ReadonlySet<ProviderName> = new Set(['baileys']);
/** Sessions reconnected at start, one after another this far apart: no thundering herd on WhatsApp. */
const RECONNECT_STAGGER_MS = 100;
const RECONNECT_PAGE = 500;

/**
 * Starts sessions' connections, and at start reconnects every `baileys` session that is not
 * logged out (`failed` and `disconnected` ones too: only a start retries them). A session is only
 * connected by the replica that holds it (see `SessionOwnershipService`), so replicas that start
 * together share the sessions out, and none takes a session another one holds.
 *
 * Only a gateway that runs with `WA_PROVIDER=baileys` reconnects at start: one that runs with
 * `external` holds no WhatsApp Web connection of its own. (This also keeps test apps, which run
 * `external`, away from other tests' sessions.)
 */
@Injectable()
export class SessionConnectorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** Aborted on shutdown: the reconnects stop, a pause between them ends at once. */
  private readonly stopping = new AbortController();
  private reconnecting: Promise<void> | null = null;

  constructor(
    private readonly repository: SessionsRepository,
    private readonly providers: ProviderRegistry,
    private readonly ownership: SessionOwnershipService,
    private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Makes this process the holder of a session it is about to create, when its provider needs
   * one; called before the row exists, so that no other replica's start can reach it first.
   */
  async hold(provider: ProviderName, sessionId: string): Promise<void> {
    if (HELD_IN_PROCESS.has(provider)) await this.ownership.claim(sessionId);
  }

  /** Lets go of a deleted session. */
  async drop(provider: ProviderName, sessionId: string): Promise<void> {
    if (HELD_IN_PROCESS.has(provider)) await this.ownership.release(sessionId);
  }

  /** Asks the provider to connect; a failure is logged, never thrown (the status tells the rest). */
  async connect(provider: WhatsAppProvider, session: ProviderSession): Promise<void> {
    try {
      await provider.connect(session);
    } catch (error) {
      this.logger.warn({ err: error, sessionId: session.id }, 'provider could not start the session');
    }
  }

  /** In the background: readiness does not wait for it. */
  onApplicationBootstrap(): void {
    if (this.config.waProvider !== 'baileys') return;
    this.reconnecting = this.reconnectAll('baileys').catch((error: unknown) =>
      this.logger.error({ err: error }, 'could not reconnect the sessions at start'),
    );
  }

  /** Connects no more sessions; resolves once the reconnect loop has stopped. */
  async stopReconnecting(): Promise<void> {
    this.stopping.abort();
    await this.reconnecting;
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stopReconnecting();
  }

  private async reconnectAll(name: ProviderName): Promise<void> {
    const provider = this.providers.get(name);
    let connected = 0;
    let heldElsewhere = 0;
    let after = '';
    for (;;) {
      const page = await this.repository.listConnectable(name, RECONNECT_PAGE, after);
      for (const session of page) {
        if (this.stopping.signal.aborted) return;
        if (!(await this.ownership.claim(session.id))) {
          heldElsewhere += 1;
          continue;
        }
        if (connected > 0) await sleep(RECONNECT_STAGGER_MS, this.stopping.signal);
        if (this.stopping.signal.aborted) return;
        await this.connect(provider, session);
        connected += 1;
      }
      if (page.length < RECONNECT_PAGE) break;
      after = page[page.length - 1].id;
    }
    this.logger.info({ provider: name, connected, heldElsewhere }, 'reconnected sessions at start');
  }
}
