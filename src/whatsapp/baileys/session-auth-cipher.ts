import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for WhatsApp credentials at rest. A sealed value is
 * `version (1 byte) · key id (4 bytes) · IV (12 bytes) · tag (16 bytes) · ciphertext`, with a
 * fresh random IV per value. The key id (derived from the key, not secret) tells a value written
 * under another key from a tampered one, and lets a later key rotation find what to re-encrypt.
 * The associated data binds each value to its session and row key, so rows cannot be swapped.
 */
const FORMAT_VERSION = 1;
const KEY_ID_LENGTH = 4;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + KEY_ID_LENGTH + IV_LENGTH + TAG_LENGTH;

/** Stored credentials that this process cannot read: never retried, never silently replaced. */
export class CredentialsUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsUnreadableError';
  }
}

export class SessionAuthCipher {
  readonly keyId: string;
  private readonly keyIdBytes: Buffer;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the session encryption key must be 32 bytes');
    this.keyIdBytes = createHmac('sha256', key).update('whatsapp-gateway session_auth key id').digest().subarray(0, KEY_ID_LENGTH);
    this.keyId = this.keyIdBytes.toString('hex');
  }

  seal(plaintext: Buffer, associatedData: string): Buffer {
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT_VERSION]), this.keyIdBytes, iv, cipher.getAuthTag(), ciphertext]);
  }

  open(sealed: Buffer, associatedData: string): Buffer {
    if (sealed.length < HEADER_LENGTH || sealed[0] !== FORMAT_VERSION) {
      throw new CredentialsUnreadableError(`stored credential "${associatedData}" is not in a known format`);
    }
    const keyId = sealed.subarray(1, 1 + KEY_ID_LENGTH);
    if (!keyId.equals(this.keyIdBytes)) {
      throw new CredentialsUnreadableError(
        `stored credential "${associatedData}" was encrypted with another SESSION_ENCRYPTION_KEY ` +
          `(key id ${keyId.toString('hex')}, this process has ${this.keyId})`,
      );
    }
    const iv = sealed.subarray(1 + KEY_ID_LENGTH, 1 + KEY_ID_LENGTH + IV_LENGTH);
    const tag = sealed.subarray(1 + KEY_ID_LENGTH + IV_LENGTH, HEADER_LENGTH);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_LENGTH });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(sealed.subarray(HEADER_LENGTH)), decipher.final()]);
    } catch {
      throw new CredentialsUnreadableError(`stored credential "${associatedData}" failed authentication (tampered or misplaced)`);
    }
  }
}
