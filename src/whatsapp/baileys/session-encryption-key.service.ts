import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from 'pino';
import { LOGGER } from '../../common/logging/logging.module';
import { AppConfig } from '../../config/app-config';
import { SessionAuthCipher } from './session-auth-cipher';

export const DEVELOPMENT_KEY_FILE = 'session-encryption.key';

/** There is no key for credentials at rest: a configuration problem, which no retry fixes. */
export class EncryptionKeyUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionKeyUnavailableError';
  }
}

/**
 * The cipher for credentials at rest, keyed by `SESSION_ENCRYPTION_KEY`. Without it (development)
 * a key is generated once into `<DATA_DIR>/session-encryption.key` (mode 0600) and reused, with a
 * warning: losing that file makes every stored credential unreadable. The key is only looked up
 * when a credential is first read or written, so a gateway that never attaches a number through
 * Baileys never creates the file.
 */
@Injectable()
export class SessionEncryptionKeyService {
  private cached: SessionAuthCipher | null = null;

  constructor(
    private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  cipher(): SessionAuthCipher {
    this.cached ??= new SessionAuthCipher(this.config.sessionEncryptionKey ?? this.developmentKey());
    return this.cached;
  }

  private developmentKey(): Buffer {
    const path = join(this.config.dataDir, DEVELOPMENT_KEY_FILE);
    let created = false;
    let text: string;
    try {
      try {
        mkdirSync(this.config.dataDir, { recursive: true });
        // `wx`: when two processes start together, one creates the file and both use it.
        writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
        created = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      text = readFileSync(path, 'utf8').trim();
    } catch (error) {
      throw new EncryptionKeyUnavailableError(
        `SESSION_ENCRYPTION_KEY is not set and the development key ${path} cannot be created or read ` +
          `(${(error as NodeJS.ErrnoException).code ?? String(error)}): set SESSION_ENCRYPTION_KEY, or DATA_DIR to a writable directory`,
      );
    }
    const key = Buffer.from(text, 'base64');
    if (key.length !== 32 || key.toString('base64') !== text) {
      throw new EncryptionKeyUnavailableError(`${path} does not hold a 32-byte base64 key; set SESSION_ENCRYPTION_KEY or remove the file`);
    }
    this.logger.warn(
      { path },
      created
        ? 'SESSION_ENCRYPTION_KEY is not set: generated a development key for WhatsApp credentials at rest; set SESSION_ENCRYPTION_KEY in production'
        : 'SESSION_ENCRYPTION_KEY is not set: using the development key for WhatsApp credentials at rest; set SESSION_ENCRYPTION_KEY in production',
    );
    return key;
  }
}
