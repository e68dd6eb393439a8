import type { proto } from 'baileys';
import { MessageMedia, MIMETYPE_PATTERN } from '../../domain/media';
import { unwrapContent } from './baileys-message-content';
import { LongLike, toNumber } from './baileys-values';

type Content = proto.IMessage;

/** The content keys that carry a file, with the HKDF info WhatsApp derives their keys with. */
const MEDIA_KEYS = {
  imageMessage: 'Image',
  videoMessage: 'Video',
  ptvMessage: 'Video',
  audioMessage: 'Audio',
  documentMessage: 'Document',
  stickerMessage: 'Image',
} as const;
type MediaKey = keyof typeof MEDIA_KEYS;

/** The fields of a WhatsApp media message the gateway reads (a live message's or its stored JSON's). */
interface WaMedia {
  mimetype?: string | null;
  fileLength?: LongLike | null;
  fileSha256?: Uint8Array | null;
  mediaKey?: Uint8Array | null;
  directPath?: string | null;
  url?: string | null;
  width?: number | null;
  height?: number | null;
  seconds?: number | null;
  ptt?: boolean | null;
  fileName?: string | null;
}

function mediaPart(content: Content | null | undefined): { key: MediaKey; media: WaMedia } | null {
  const c = unwrapContent(content);
  if (!c) return null;
  for (const key of Object.keys(MEDIA_KEYS) as MediaKey[]) {
    const media = c[key] as WaMedia | null | undefined;
    if (media) return { key, media };
  }
  return null;
}

const bytes = (value: Uint8Array | null | undefined): Buffer | null => (value && value.length > 0 ? Buffer.from(value) : null);
const count = (value: number | null | undefined): number | null => (typeof value === 'number' && value >= 0 && value <= 100_000 ? value : null);

/**
 * The file a message announces, `pending`: null when it announces none, or too little to check a
 * download against (no sha256 or size). The name is kept to what the stored copy accepts.
 */
export function announcedMedia(content: Content | null | undefined): MessageMedia | null {
  const part = mediaPart(content);
  const sha256 = bytes(part?.media.fileSha256);
  const size = toNumber(part?.media.fileLength);
  if (!part || !sha256 || sha256.length !== 32 || size === null || size < 0) return null;
  const { media } = part;
  const mimetype = media.mimetype && media.mimetype.length <= 255 && MIMETYPE_PATTERN.test(media.mimetype) ? media.mimetype : 'application/octet-stream';
  const fileName = typeof media.fileName === 'string' && media.fileName !== '' ? [...media.fileName].slice(0, 255).join('') : null;
  return {
    mimetype,
    size,
    fileName,
    sha256: sha256.toString('hex'),
    width: count(media.width),
    height: count(media.height),
    durationMs: typeof media.seconds === 'number' && media.seconds >= 0 ? media.seconds * 1000 : null,
    voiceNote: part.key === 'audioMessage' && media.ptt === true,
    status: 'pending',
  };
}

/** What downloading a message's file takes: where it is, and the key it is encrypted with. */
export interface DownloadableMedia {
  mediaKey: Buffer;
  /** The HKDF info WhatsApp derives the file's keys with. */
  keyInfo: string;
  url: string | null;
  directPath: string | null;
}

export function downloadableMedia(content: Content | null | undefined): DownloadableMedia | null {
  const part = mediaPart(content);
  const mediaKey = bytes(part?.media.mediaKey);
  if (!part || !mediaKey) return null;
  return {
    mediaKey,
    keyInfo: `WhatsApp ${MEDIA_KEYS[part.key]} Keys`,
    url: part.media.url || null,
    directPath: part.media.directPath || null,
  };
}
