import { createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { request } from 'undici';
import { MediaGoneError, MediaIntegrityError } from '../whatsapp-provider';
import { DownloadableMedia } from './baileys-media';

/** WhatsApp's media CDN, where a message's `directPath` points. */
const DEFAULT_HOST = 'mmg.whatsapp.net';
const MAC_LENGTH = 10;
const HEADERS_TIMEOUT_MS = 30_000;
const BODY_TIMEOUT_MS = 60_000;


/**
 * Undoes WhatsApp's media encryption while streaming: AES-256-CBC with keys expanded from the
 * message's media key (HKDF-SHA256, 112 bytes: IV, cipher key, MAC key), and a 10-byte
 * HMAC-SHA256 of IV and ciphertext at the end, checked before the last bytes are let through.
 */
class Decrypt extends Transform {
  private readonly decipher;
  private readonly mac;
  private held = Buffer.alloc(0);

  constructor(keys: { iv: Buffer; cipherKey: Buffer; macKey: Buffer }) {
    super();
    this.decipher = createDecipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
    this.mac = createHmac('sha256', keys.macKey).update(keys.iv);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // The last MAC_LENGTH bytes seen so far may be the MAC: they are held back until more come.
    const data = Buffer.concat([this.held, chunk]);
    const body = data.subarray(0, Math.max(0, data.length - MAC_LENGTH));
    this.held = Buffer.from(data.subarray(body.length));
    this.mac.update(body);
    try {
      callback(null, this.decipher.update(body));
    } catch {
      callback(new MediaIntegrityError('the downloaded file does not decrypt'));
    }
  }

  override _flush(callback: TransformCallback): void {
    const expected = this.mac.digest().subarray(0, MAC_LENGTH);
    if (this.held.length !== MAC_LENGTH || !timingSafeEqual(expected, this.held)) {
      callback(new MediaIntegrityError('the downloaded file failed its MAC check'));
      return;
    }
    try {
      callback(null, this.decipher.final());
    } catch {
      callback(new MediaIntegrityError('the downloaded file does not decrypt'));
    }
  }
}

export function mediaKeys(mediaKey: Buffer, info: string): { iv: Buffer; cipherKey: Buffer; macKey: Buffer } {
  const expanded = Buffer.from(hkdfSync('sha256', mediaKey, Buffer.alloc(0), info, 112));
  return { iv: expanded.subarray(0, 16), cipherKey: expanded.subarray(16, 48), macKey: expanded.subarray(48, 80) };
}

export interface MediaDownloaderOptions {
  /** Whether a download URL may be fetched: WhatsApp's CDN over https by default, never a URL a message could aim elsewhere. */
  allowUrl?: (url: URL) => boolean;
}

const whatsappCdn = (url: URL): boolean => url.protocol === 'https:' && (url.hostname === 'whatsapp.net' || url.hostname.endsWith('.whatsapp.net'));

/**
 * Downloads and decrypts the file of a WhatsApp message from WhatsApp's CDN, as Baileys'
 * `downloadContentFromMessage` does, streaming. The injectable seam for tests, which serve an
 * encrypted file from a local server.
 */
export class WhatsAppMediaDownloader {
  private readonly allowUrl: (url: URL) => boolean;

  constructor(options: MediaDownloaderOptions = {}) {
    this.allowUrl = options.allowUrl ?? whatsappCdn;
  }

  async download(media: DownloadableMedia): Promise<Readable> {
    const url = this.urlOf(media);
    const response = await request(url, {
      method: 'GET',
      headers: { origin: 'https://web.whatsapp.com' },
      headersTimeout: HEADERS_TIMEOUT_MS,
      bodyTimeout: BODY_TIMEOUT_MS,
    });
    if (response.statusCode === 404 || response.statusCode === 410) {
      await response.body.dump();
      throw new MediaGoneError(`WhatsApp's CDN answered ${response.statusCode}`);
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new Error(`WhatsApp's CDN answered ${response.statusCode}`);
    }
    const decrypt = new Decrypt(mediaKeys(media.mediaKey, media.keyInfo));
    response.body.on('error', (error) => decrypt.destroy(error));
    // A reader that stops early (a check failed, the download was stopped) ends the transfer too.
    decrypt.once('close', () => response.body.destroy());
    return response.body.pipe(decrypt);
  }

  private urlOf(media: DownloadableMedia): URL {
    let url: URL | null = null;
    try {
      const given = media.url ? new URL(media.url) : null;
      // The direct path is the current one; the host is the one the message names, if any.
      url = media.directPath ? new URL(media.directPath, given ? `${given.protocol}//${given.host}` : `https://${DEFAULT_HOST}`) : given;
    } catch {
      url = null;
    }
    if (!url || !this.allowUrl(url)) throw new Error('the message names no download URL on WhatsApp\'s CDN');
    return url;
  }
}
