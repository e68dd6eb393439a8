import { fromBuffer } from 'file-type';
import { MediaMessageType } from '../domain/media';

/**
 * The real types each kind of message may carry, as WhatsApp plays them. A document may be
 * anything. Sniffed from the bytes, never taken from what the sender declares.
 */
const ACCEPTED: Record<Exclude<MediaMessageType, 'document'>, readonly string[]> = {
  image: ['image/jpeg', 'image/png', 'image/webp'],
  sticker: ['image/webp'],
  video: ['video/mp4', 'video/3gpp'],
  audio: ['audio/ogg', 'audio/opus', 'audio/mpeg', 'audio/mp4', 'audio/x-m4a', 'audio/aac', 'audio/amr'],
};
/** WhatsApp plays a voice note only as Opus in Ogg. */
const VOICE_NOTE = ['audio/ogg', 'audio/opus'];

export type FileKindCheck = { ok: true; mimetype: string | undefined } | { ok: false; problem: string };

/**
 * Checks that the file whose first bytes are `head` fits a message of `type`; gives the mimetype
 * to store (the sniffed one; undefined for a document whose type is not recognised).
 */
export async function checkFileKind(type: MediaMessageType, head: Buffer, voiceNote: boolean): Promise<FileKindCheck> {
  const sniffed = (await fromBuffer(head))?.mime;
  if (type === 'document') return { ok: true, mimetype: sniffed };
  const accepted = voiceNote ? VOICE_NOTE : ACCEPTED[type];
  if (!sniffed || !accepted.includes(sniffed)) {
    const what = voiceNote ? 'a voice note' : `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
    return { ok: false, problem: `is ${sniffed ?? 'of an unrecognised type'}, which is not ${what} (${accepted.join(', ')})` };
  }
  // WhatsApp wants Opus voice notes labelled as Ogg with the codec.
  return { ok: true, mimetype: sniffed === 'audio/opus' || (voiceNote && sniffed === 'audio/ogg') ? 'audio/ogg; codecs=opus' : sniffed };
}
