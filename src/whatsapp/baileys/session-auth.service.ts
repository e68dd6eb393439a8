import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticationCreds, AuthenticationState, SignalDataSet, SignalDataTypeMap } from 'baileys';
import { Logger } from 'pino';
import { LOGGER } from '../../common/logging/logging.module';
import { sleep } from '../../common/time';
import { BaileysClock } from './baileys-clock';
import { backoffDelay } from './baileys-reconnect-policy';
import { BAILEYS_TUNING, BaileysTuning } from './baileys-tuning';
import { fromBufferJson, toBufferJson } from './buffer-json';
import { SessionEncryptionKeyService } from './session-encryption-key.service';
import { SessionAuthRepository } from './session-auth.repository';
import { classifyWriteFailure } from './session-write-queue';

const CREDS_KEY = 'creds';

function signalKey(type: keyof SignalDataTypeMap, id: string): string {
  return `${type}:${id}`;
}

/** A session's Baileys auth state, read from and written to PostgreSQL, encrypted. */
export interface SessionAuth {
  readonly state: AuthenticationState;
  /** Persists `state.creds` as it is now; writes are coalesced and retried while the database is away. */
  saveCreds(): void;
  /** Stops retrying; waits for a write in progress and the last pending change. */
  close(): Promise<void>;
  /** Stops at once and writes nothing more (a write in progress may still land). */
  abandon(): void;
}

/**
 * Baileys' `AuthenticationState` on the `session_auth` table: `creds` under the key `creds`, each
 * signal key under `<type>:<id>`, every value Baileys-BufferJSON serialized and sealed with
 * AES-256-GCM. Key writes are batched into one transaction per `keys.set` call.
 */
@Injectable()
export class SessionAuthService {
  constructor(
    private readonly repository: SessionAuthRepository,
    private readonly encryptionKey: SessionEncryptionKeyService,
    private readonly clock: BaileysClock,
    @Inject(BAILEYS_TUNING) private readonly tuning: BaileysTuning,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * The session's stored state; a session without one starts from `initialCreds()` (Baileys'
   * `initAuthCreds`, passed in because only the provider may load the package), saved at once.
   */
  async load(sessionId: string, initialCreds: () => Promise<AuthenticationCreds>): Promise<SessionAuth> {
    const stored = await this.read<AuthenticationCreds>(sessionId, [CREDS_KEY]);
    let creds = stored.get(CREDS_KEY);
    if (!creds) {
      creds = await initialCreds();
      await this.writeValues(sessionId, new Map([[CREDS_KEY, creds]]), []);
    }
    return new DatabaseSessionAuth(sessionId, creds, this, this.clock, this.tuning, this.logger);
  }

  /** Forgets the session's credentials (logout). */
  async clear(sessionId: string): Promise<void> {
    await this.repository.deleteAll(sessionId);
  }

  async read<T>(sessionId: string, keys: readonly string[]): Promise<Map<string, T>> {
    const cipher = this.encryptionKey.cipher();
    const rows = await this.repository.find(sessionId, keys);
    const values = new Map<string, T>();
    for (const [key, sealed] of rows) {
      values.set(key, fromBufferJson<T>(cipher.open(sealed, `${sessionId}/${key}`).toString('utf8')));
    }
    return values;
  }

  async writeValues(sessionId: string, upserts: ReadonlyMap<string, unknown>, deletes: readonly string[]): Promise<void> {
    const cipher = this.encryptionKey.cipher();
    const sealed = new Map<string, Buffer>();
    for (const [key, value] of upserts) {
      sealed.set(key, cipher.seal(Buffer.from(toBufferJson(value), 'utf8'), `${sessionId}/${key}`));
    }
    await this.repository.write(sessionId, sealed, deletes);
  }

  async getKeys<T extends keyof SignalDataTypeMap>(
    sessionId: string,
    type: T,
    ids: readonly string[],
  ): Promise<Record<string, SignalDataTypeMap[T]>> {
    const values = await this.read<SignalDataTypeMap[T]>(sessionId, ids.map((id) => signalKey(type, id)));
    const result: Record<string, SignalDataTypeMap[T]> = {};
    for (const id of ids) {
      const value = values.get(signalKey(type, id));
      if (value !== undefined && value !== null) result[id] = value;
    }
    return result;
  }

  async setKeys(sessionId: string, data: SignalDataSet): Promise<void> {
    const upserts = new Map<string, unknown>();
    const deletes = new Set<string>();
    for (const [type, entries] of Object.entries(data) as [keyof SignalDataTypeMap, Record<string, unknown>][]) {
      for (const [id, value] of Object.entries(entries ?? {})) {
        const key = signalKey(type, id);
        if (value === null || value === undefined) {
          upserts.delete(key);
          deletes.add(key);
        } else {
          deletes.delete(key);
          upserts.set(key, value);
        }
      }
    }
    await this.writeValues(sessionId, upserts, [...deletes]);
  }
}

class DatabaseSessionAuth implements SessionAuth {
  readonly state: AuthenticationState;
  private dirty = false;
  private writing: Promise<void> | null = null;
  private closed = false;
  /** Aborted by `close`: a backoff in progress ends at once. */
  private readonly closing = new AbortController();

  constructor(
    private readonly sessionId: string,
    creds: AuthenticationCreds,
    private readonly service: SessionAuthService,
    private readonly clock: BaileysClock,
    private readonly tuning: BaileysTuning,
    private readonly logger: Logger,
  ) {
    this.state = {
      creds,
      keys: {
        get: (type, ids) => service.getKeys(sessionId, type, ids),
        set: (data) => service.setKeys(sessionId, data),
      },
    };
  }

  saveCreds(): void {
    if (this.closed) return;
    this.dirty = true;
    this.writing ??= this.writeLoop().finally(() => {
      this.writing = null;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    await this.writing;
  }

  abandon(): void {
    this.closed = true;
    this.dirty = false;
    this.closing.abort();
  }

  /**
   * Writes the latest creds until none is newer. A write that fails because the database is
   * away is tried again with backoff, until `close`; after `close` a pending change still gets
   * one write, so the latest credentials are not lost on shutdown.
   */
  private async writeLoop(): Promise<void> {
    for (let attempt = 0; this.dirty; ) {
      this.dirty = false;
      try {
        await this.service.writeValues(this.sessionId, new Map([[CREDS_KEY, this.state.creds]]), []);
        attempt = 0;
      } catch (error) {
        if (this.closed || classifyWriteFailure(error) !== 'retry') {
          this.logger.error({ err: error, sessionId: this.sessionId }, 'could not save WhatsApp credentials');
          return;
        }
        this.dirty = true;
        const delay = backoffDelay(attempt, this.tuning.writeRetry, this.clock.random());
        attempt += 1;
        this.logger.warn({ err: error, sessionId: this.sessionId, retryInMs: delay }, 'could not save WhatsApp credentials; retrying');
        await sleep(delay, this.closing.signal, this.clock);
      }
    }
  }
}
