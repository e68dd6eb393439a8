import { CreateApiKeys1764000000000 } from './1764000000000-create-api-keys';
import { CreateSessionsChatsMessages1764000000001 } from './1764000000001-create-sessions-chats-messages';
import { CreateSessionAuth1764000000002 } from './1764000000002-create-session-auth';
import { CreateIdempotencyKeys1764000000003 } from './1764000000003-create-idempotency-keys';
import { CreateEventsWebhooks1764000000020 } from './1764000000020-create-events-webhooks';
import { PauseFailingWebhooks1764000000021 } from './1764000000021-pause-failing-webhooks';
import { DeletesInBackground1764000000110 } from './1764000000110-deletes-in-background';
import { WebhookDispatch1764000000120 } from './1764000000120-webhook-dispatch';
import { EventLogHorizonPerOrg1764000000130 } from './1764000000130-event-log-horizon-per-org';
import { AddMessageMedia1764000000140 } from './1764000000140-add-message-media';
import { CreateMediaDownloads1764000000141 } from './1764000000141-create-media-downloads';
import { CreateOutbox1764000000150 } from './1764000000150-create-outbox';
import { CreatePairingQrsHolderRequests1764000000151 } from './1764000000151-create-pairing-qrs-holder-requests';
import { ConversationsContactsGroups1764000000160 } from './1764000000160-conversations-contacts-groups';
import { OutboxActions1764000000161 } from './1764000000161-outbox-actions';
import { MediaDownloadHolders1764000000175 } from './1764000000175-media-download-holders';
import { NumberLookupBudgets1764000000176 } from './1764000000176-number-lookup-budgets';

/** Every migration, in order. Listed explicitly so the build and the tests load the same set. */
export const MIGRATIONS = [
  CreateApiKeys1764000000000,
  CreateSessionsChatsMessages1764000000001,
  CreateSessionAuth1764000000002,
  CreateIdempotencyKeys1764000000003,
  CreateEventsWebhooks1764000000020,
  PauseFailingWebhooks1764000000021,
  DeletesInBackground1764000000110,
  WebhookDispatch1764000000120,
  EventLogHorizonPerOrg1764000000130,
  AddMessageMedia1764000000140,
  CreateMediaDownloads1764000000141,
  CreateOutbox1764000000150,
  CreatePairingQrsHolderRequests1764000000151,
  ConversationsContactsGroups1764000000160,
  OutboxActions1764000000161,
  MediaDownloadHolders1764000000175,
  NumberLookupBudgets1764000000176,
];
