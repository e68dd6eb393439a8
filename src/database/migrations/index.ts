import { CreateApiKeys1764000000000 } from './1764000000000-create-api-keys';
import { CreateSessionsChatsMessages1764000000001 } from './1764000000001-create-sessions-chats-messages';
import { CreateSessionAuth1764000000002 } from './1764000000002-create-session-auth';
import { CreateIdempotencyKeys1764000000003 } from './1764000000003-create-idempotency-keys';
import { CreateEventsWebhooks1764000000020 } from './1764000000020-create-events-webhooks';
import { AddMessageMedia1764000000140 } from './1764000000140-add-message-media';
import { CreateMediaDownloads1764000000141 } from './1764000000141-create-media-downloads';

/** Every migration, in order. Listed explicitly so the build and the tests load the same set. */
export const MIGRATIONS = [
  CreateApiKeys1764000000000,
  CreateSessionsChatsMessages1764000000001,
  CreateSessionAuth1764000000002,
  CreateIdempotencyKeys1764000000003,
  CreateEventsWebhooks1764000000020,
  AddMessageMedia1764000000140,
  CreateMediaDownloads1764000000141,
];
