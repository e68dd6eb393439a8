import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { ConflictError, NotFoundError, UnavailableError } from '../../common/errors/app-error';
import { AppConfig } from '../../config/app-config';
import { ProviderRegistry } from '../providers/provider-registry';
import {
  ChatAction,
  NumberLookup,
  OutgoingMessage,
  PairingQr,
  ParticipantAction,
  ParticipantResult,
  ProviderGroup,
  ProviderSession,
  WhatsAppProvider,
} from '../whatsapp-provider';
import { groupAnswer, inviteLinkAnswer, lookupAnswer, MalformedAnswerError, participantsAnswer, pictureAnswer } from './connector-answers';

/** The contract's send timeout for the connector. */
const SEND_TIMEOUT_MS = 5000;
/** Injection token for another send timeout (tests that should not wait 5 s). */
export const EXTERNAL_SEND_TIMEOUT_MS = Symbol('EXTERNAL_SEND_TIMEOUT_MS');

/**
 * A connector service outside this process holds the WhatsApp connection: it pushes events to
 * `POST /sessions/{sid}/events` (status included) and takes sends at `WA_EXTERNAL_SEND_URL`.
 * Connecting, pairing and chat state are therefore the connector's business.
 */
@Injectable()
export class ExternalProvider extends WhatsAppProvider implements OnModuleInit {
  readonly name = 'external';
  readonly holdsConnection = false;
  private readonly sendUrl?: string;

  constructor(
    private readonly registry: ProviderRegistry,
    config: AppConfig,
    @Optional() @Inject(EXTERNAL_SEND_TIMEOUT_MS) private readonly sendTimeoutMs: number = SEND_TIMEOUT_MS,
  ) {
    super();
    this.sendUrl = config.waExternalSendUrl;
  }

  onModuleInit(): void {
    this.registry.register(this);
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  disconnect(): Promise<void> {
    return Promise.resolve();
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  logout(): Promise<void> {
    return Promise.resolve();
  }

  currentQr(): PairingQr | null {
    return null;
  }

  requestPairingCode(): Promise<string> {
    return Promise.reject(new ConflictError('an external session is paired by its connector'));
  }

  canSend(): boolean {
    return this.sendUrl !== undefined;
  }

  /** One attempt, no retry: a 2xx within the timeout (5 s) means sent, anything else failed. */
  async send(session: ProviderSession, chatJid: string, message: OutgoingMessage): Promise<void> {
    await this.post({ sessionId: session.id, chatId: chatJid, message: messageBody(message) }, message.id);
  }

  applyChatState(): Promise<void> {
    return Promise.resolve();
  }

  /** Posted to the same URL as sends, as `{"sessionId", "chatId", "action"}`; a 2xx within 5 s is success. */
  async act(session: ProviderSession, chatJid: string, action: ChatAction): Promise<void> {
    await this.post({ sessionId: session.id, chatId: chatJid, action: actionBody(action) });
  }

  private async post(body: unknown, idempotencyKey?: string): Promise<void> {
    if (!this.sendUrl) throw new ConflictError('no connector is configured to send for external sessions');
    const response = await fetch(this.sendUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.sendTimeoutMs),
    });
    // The body is not needed; reading it to the end frees the connection.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`the connector answered ${response.status}`);
  }

  // Contacts, numbers and groups (API.md §10): actions whose JSON answer the connector gives.

  async lookupNumbers(session: ProviderSession, phoneNumbers: string[]): Promise<NumberLookup[]> {
    return lookupAnswer(await this.ask(session, null, { type: 'lookup', phoneNumbers }), phoneNumbers);
  }

  async profilePictureUrl(session: ProviderSession, jid: string): Promise<string | null> {
    return pictureAnswer(await this.ask(session, jid, { type: 'picture' }));
  }

  async groupMetadata(session: ProviderSession, jid: string): Promise<ProviderGroup> {
    return groupAnswer(await this.ask(session, jid, { type: 'group.get' }, true), jid);
  }

  async createGroup(session: ProviderSession, subject: string, phoneNumbers: string[]): Promise<ProviderGroup> {
    return groupAnswer(await this.ask(session, null, { type: 'group.create', subject, participants: phoneNumbers }));
  }

  async updateGroupParticipants(
    session: ProviderSession,
    jid: string,
    action: ParticipantAction,
    phoneNumbers: string[],
  ): Promise<ParticipantResult[]> {
    const answer = await this.ask(session, jid, { type: 'group.participants', [action]: phoneNumbers }, true);
    return participantsAnswer(answer, action, phoneNumbers);
  }

  async groupInviteLink(session: ProviderSession, jid: string): Promise<string> {
    return inviteLinkAnswer(await this.ask(session, jid, { type: 'group.invite-link' }, true));
  }

  /**
   * Posts `{sessionId, chatId?, action}` to the connector and returns its JSON answer. A 404 about
   * a group means the group is unknown; a 409, that the connector cannot act for the session now;
   * anything else but a 2xx JSON answer within the timeout, that it is unavailable.
   */
  private async ask(session: ProviderSession, chatId: string | null, action: Record<string, unknown>, aboutGroup = false): Promise<unknown> {
    if (!this.sendUrl) throw new ConflictError('no connector is configured for external sessions');
    let response: Response;
    let body: string;
    try {
      response = await fetch(this.sendUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ sessionId: session.id, ...(chatId ? { chatId } : {}), action }),
        signal: AbortSignal.timeout(this.sendTimeoutMs),
      });
      body = await response.text();
    } catch {
      throw new UnavailableError('the connector did not answer in time');
    }
    if (response.status === 404 && aboutGroup) throw new NotFoundError('group not found');
    if (response.status === 409) throw new ConflictError('the connector cannot act for this session now');
    if (!response.ok) throw new UnavailableError(`the connector answered ${response.status}`);
    try {
      return JSON.parse(body) as unknown;
    } catch {
      throw new MalformedAnswerError('the body is not JSON');
    }
  }
}

/** The `message` of a send: the stored message as the connector needs it to send it. */
function messageBody(message: OutgoingMessage): Record<string, unknown> {
  const common = { id: message.id, type: message.type, ...(message.replyTo ? { replyTo: message.replyTo.id } : {}) };
  switch (message.type) {
    case 'text':
      return { ...common, text: message.text };
    case 'location':
      return { ...common, text: null, location: message.location };
    case 'contact':
      return { ...common, text: null, contacts: message.contacts };
    default:
      return {
        ...common,
        text: message.text,
        // The connector fetches the bytes from the gateway with its own key (`read`).
        media: {
          mimetype: message.media.mimetype,
          size: message.media.size,
          sha256: message.media.sha256,
          fileName: message.media.fileName,
          url: message.media.url,
          voiceNote: message.media.voiceNote,
        },
      };
  }
}

/** The `action` of API.md §4: the route's body, with the message it is about named by id. */
function actionBody(action: ChatAction): Record<string, unknown> {
  switch (action.type) {
    case 'reaction':
      return { type: action.type, messageId: action.message.id, emoji: action.emoji };
    case 'edit':
      return { type: action.type, messageId: action.message.id, text: action.text };
    case 'revoke':
      return { type: action.type, messageId: action.message.id };
    case 'read':
      return { type: action.type, messageIds: action.messages.map((message) => message.id) };
    case 'presence':
      return { type: action.type, state: action.state };
  }
}
