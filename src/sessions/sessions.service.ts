import { Injectable, OnModuleInit } from '@nestjs/common';
import { ulid } from 'ulid';
import { ConflictError, UnavailableError } from '../common/errors/app-error';
import { Page, toPage } from '../common/pagination/page';
import { PairingQrRepository } from '../whatsapp/pairing-qr.repository';
import { ProviderRegistry } from '../whatsapp/providers/provider-registry';
import { HolderRelay } from './holder-relay.service';
import { PairingCodeDto, SessionQrDto } from './pairing.dto';
import { SessionConnectorService } from './session-connector.service';
import { SessionEntity } from './session.entity';
import { SessionDto, toSessionDto } from './session.dto';
import { isSessionId, sessionNotFound } from './session-id';
import { decodePosition, encodePosition, MAX_DATE_MS } from '../common/pagination/keyset-position';
import { SessionsRepository } from './sessions.repository';
import { StoredCopyPurger } from './stored-copy-purger.service';

/** The request the replica holding a session answers with a pairing code. */
const PAIRING_CODE_REQUEST = 'pairing-code';

@Injectable()
export class SessionsService implements OnModuleInit {
  constructor(
    private readonly repository: SessionsRepository,
    private readonly providers: ProviderRegistry,
    private readonly connector: SessionConnectorService,
    private readonly purger: StoredCopyPurger,
    private readonly relay: HolderRelay,
    private readonly pairingQrs: PairingQrRepository,
  ) {}

  onModuleInit(): void {
    this.relay.handle(PAIRING_CODE_REQUEST, (sessionId, payload) => {
      const { provider, phoneNumber } = payload as { provider: string; phoneNumber: string };
      return this.providers.get(provider).requestPairingCode(sessionId, phoneNumber);
    });
  }

  /**
   * The organization's session `id`. A malformed id, an unknown one and another organization's
   * all answer the same 404.
   */
  async findOwned(orgId: string, id: string): Promise<SessionEntity> {
    const session = isSessionId(id) ? await this.repository.findOwned(orgId, id) : null;
    if (!session) throw sessionNotFound();
    return session;
  }

  /** Stores the session, then asks its provider to connect (status arrives as events). */
  async create(orgId: string, input: { name: string }): Promise<SessionDto> {
    const provider = this.providers.forNewSessions();
    // Set here, at millisecond precision, so that page cursors (epoch ms) are exact.
    const now = new Date();
    const session: SessionEntity = {
      id: ulid(),
      orgId,
      name: input.name,
      provider: provider.name,
      status: 'disconnected',
      phoneNumber: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.connector.hold(provider.name, session.id);
    try {
      await this.repository.insert(session);
    } catch (error) {
      await this.connector.drop(provider.name, session.id);
      throw error;
    }
    await this.connector.connect(provider, { id: session.id, orgId });
    // A provider may already have reported a status.
    return toSessionDto((await this.repository.findOwned(orgId, session.id)) ?? session);
  }

  async get(orgId: string, id: string): Promise<SessionDto> {
    return toSessionDto(await this.findOwned(orgId, id));
  }

  async list(orgId: string, limit: number, cursor?: string): Promise<Page<SessionDto>> {
    const after = cursor ? decodePosition(cursor, isSessionId, 0, MAX_DATE_MS) : undefined;
    const rows = await this.repository.listPage(orgId, limit + 1, after && { createdAt: new Date(after[0]), id: after[1] });
    return toPage(rows, limit, toSessionDto, (s) => encodePosition(s.createdAt.getTime(), s.id));
  }

  /**
   * Deletes the session: first gone for every read (its stored copy is purged in the background),
   * then the number is logged out, best effort and bounded. In this order a failed or slow logout
   * never leaves a session behind, and a failed delete never leaves one logged out.
   */
  async delete(orgId: string, id: string): Promise<void> {
    const session = await this.findOwned(orgId, id);
    if (!(await this.repository.markDeleted(orgId, session.id))) throw sessionNotFound();
    // On whichever replica holds the connection: the mark told it so.
    await this.connector.letGoOfDeleted(this.providers.get(session.provider), session.id);
    await this.purger.purgeNow({ sessionId: session.id });
  }

  /** The QR to scan while the session is pairing, as its holder (maybe another replica) shows it; 409 otherwise. */
  async currentQr(orgId: string, id: string): Promise<SessionQrDto> {
    const session = await this.findOwned(orgId, id);
    const provider = this.providers.get(session.provider);
    const local = !provider.holdsConnection || this.connector.holdsHere(session.id);
    const qr = local ? provider.currentQr(session.id) : session.status === 'pairing' ? await this.pairingQrs.find(session.id) : null;
    if (!qr) throw new ConflictError('the session is not pairing', { status: session.status });
    return { qr: qr.qr, expiresAt: qr.expiresAt };
  }

  /**
   * An 8-character code to link the number instead of scanning the QR, asked of the replica
   * holding the session; 409 unless pairing, 503 when no replica holds it or it does not answer.
   */
  async requestPairingCode(orgId: string, id: string, phoneNumber: string): Promise<PairingCodeDto> {
    const session = await this.findOwned(orgId, id);
    const provider = this.providers.get(session.provider);
    if (!provider.holdsConnection) return { code: await provider.requestPairingCode(session.id, phoneNumber) };
    const code = await this.relay.ask(session.id, PAIRING_CODE_REQUEST, { provider: session.provider, phoneNumber });
    if (typeof code !== 'string') throw new UnavailableError('the replica holding this session gave no pairing code');
    return { code };
  }
}
