import { MessageType } from './gateway-events';

/** The message types that carry a file (API.md §8). */
export const MEDIA_MESSAGE_TYPES = ['image', 'video', 'audio', 'document', 'sticker'] as const;
export type MediaMessageType = (typeof MEDIA_MESSAGE_TYPES)[number];

/**
 * Where a message's file is: `pending` (known, not stored yet), `ready` (stored and served),
 * `failed` (could not be fetched, or did not match what was announced), `expired` (WhatsApp no
 * longer has it and the phone could not upload it again).
 */
export const MEDIA_STATUSES = ['pending', 'ready', 'failed', 'expired'] as const;
export type MediaStatus = (typeof MEDIA_STATUSES)[number];

/** The statuses a provider or connector may announce; `ready` is the gateway's own, once it holds the file. */
export const ANNOUNCED_MEDIA_STATUSES = ['pending', 'failed', 'expired'] as const;

/** A message's file as the stored copy describes it. */
export interface MessageMedia {
  mimetype: string;
  /** Bytes. */
  size: number;
  fileName: string | null;
  /** Lower-case hex of the file's SHA-256: its identity in the blob store. */
  sha256: string;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  voiceNote: boolean;
  status: MediaStatus;
}

export function isMediaType(type: MessageType): type is MediaMessageType {
  return (MEDIA_MESSAGE_TYPES as readonly string[]).includes(type);
}

export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
/** A MIME type as `type/subtype` with optional parameters, as HTTP's Content-Type carries it. */
export const MIMETYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\\\r\n]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;
