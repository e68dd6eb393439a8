import { Injectable } from '@nestjs/common';
import { ConflictError } from '../common/errors/app-error';
import { HolderRelay } from '../sessions/holder-relay.service';
import { SessionEntity } from '../sessions/session.entity';
import { ProviderRegistry } from '../whatsapp/providers/provider-registry';
import { ProviderSession, WhatsAppProvider } from '../whatsapp/whatsapp-provider';

/** What carrying out an action of API.md §10 is, where the session's connection is. */
export type DirectoryHandler<A, R> = (provider: WhatsAppProvider, session: ProviderSession, args: A) => Promise<R>;

interface Relayed {
  provider: string;
  orgId: string;
  args: unknown;
}

/**
 * The request/answer actions of API.md §10 (lookups, pictures, groups), carried out by the
 * replica holding the session's connection (the pairing code's model): asked on any replica, sent
 * through the relay, answered within 10 s or 503. A connector session has no holder: any replica
 * asks its connector.
 */
@Injectable()
export class DirectoryActions {
  private readonly handlers = new Map<string, DirectoryHandler<unknown, unknown>>();

  constructor(
    private readonly relay: HolderRelay,
    private readonly providers: ProviderRegistry,
  ) {}

  /** Registers what the holder does for `kind`. */
  define<A, R>(kind: string, handler: DirectoryHandler<A, R>): void {
    this.handlers.set(kind, handler as DirectoryHandler<unknown, unknown>);
    this.relay.handle(`directory:${kind}`, (sessionId, payload) => {
      const { provider, orgId, args } = payload as Relayed;
      return this.carryOut(kind, this.providers.get(provider), { id: sessionId, orgId }, args);
    });
  }

  /** The answer to `kind` for `session`; 409 when the session cannot act now. */
  async run<R>(session: SessionEntity, kind: string, args: unknown): Promise<R> {
    const provider = this.providers.get(session.provider);
    if (!provider.holdsConnection) return (await this.carryOut(kind, provider, { id: session.id, orgId: session.orgId }, args)) as R;
    // Not worth a trip to the holder (there may be none: a logged-out number is held by nobody).
    if (session.status !== 'connected') throw new ConflictError('session is not connected', { status: session.status });
    const relayed: Relayed = { provider: session.provider, orgId: session.orgId, args };
    return (await this.relay.ask(session.id, `directory:${kind}`, relayed)) as R;
  }

  private carryOut(kind: string, provider: WhatsAppProvider, session: ProviderSession, args: unknown): Promise<unknown> {
    const handler = this.handlers.get(kind);
    if (!handler) throw new Error(`no handler for ${kind} actions`);
    if (!provider.canSend(session.id)) {
      throw new ConflictError(provider.holdsConnection ? 'session is not connected' : 'no connector is configured for external sessions');
    }
    return handler(provider, session, args);
  }
}
