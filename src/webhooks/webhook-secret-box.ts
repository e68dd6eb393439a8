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
}

function associatedData(orgId: string, webhookId: string): string {
  return `webhook-secret\n${orgId}\n${webhookId}`;
}
