import { Injectable } from '@nestjs/common';
import { SessionEncryptionKeyService } from '../whatsapp/baileys/session-encryption-key.service';

/**
 * Webhook signing secrets at rest, sealed with the key that protects WhatsApp credentials
 * (`SESSION_ENCRYPTION_KEY`), bound to their webhook so a sealed secret cannot be moved to another.
 */
@Injectable()
export class WebhookSecretBox {
  constructor(private readonly keys: SessionEncryptionKeyService) {}

  seal(orgId: string, webhookId: string, secret: string): string {
    return this.keys.cipher().seal(Buffer.from(secret, 'utf8'), associatedData(orgId, webhookId)).toString('base64');
  }

  open(orgId: string, webhookId: string, sealed: string): string {
    return this.keys.cipher().open(Buffer.from(sealed, 'base64'), associatedData(orgId, webhookId)).toString('utf8');
  }

  /**
   * The secrets a delivery is signed with: the current one (throws when it cannot be read), then a
   * rotated-out one still valid, left out when it cannot be read (sealed under a former key: the
   * rotation that followed a key change is what made the current one readable).
   */
  signingSecrets(orgId: string, webhookId: string, current: string, previous: string | null): string[] {
    const secrets = [this.open(orgId, webhookId, current)];
    if (previous !== null) {
      try {
        secrets.push(this.open(orgId, webhookId, previous));
      } catch {
        // Signing with the current secret alone is what the receiver needs after such a rotation.
      }
    }
    return secrets;
  }
}

function associatedData(orgId: string, webhookId: string): string {
  return `webhook-secret\n${orgId}\n${webhookId}`;
}
