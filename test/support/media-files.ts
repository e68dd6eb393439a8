import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { mediaKeys } from '../../src/whatsapp/baileys/whatsapp-media-downloader';

export const sha256Of = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A fresh data directory for a test app, so that its media files can be counted. */
export const freshDataDir = (): string => mkdtempSync(join(tmpdir(), 'wgw-media-'));

/** Every file under `dir` (staged ones included), as paths relative to it. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  try {
    walk(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return out.sort();
}

/** The smallest well-formed files of a few types, padded to `size` where the format allows it. */
export const SAMPLE_FILES = {
  /** A 1×1 PNG. */
  png: Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  ),
  jpeg: (size = 2048): Buffer => {
    const bytes = Buffer.alloc(size, 0x20);
    Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01]).copy(bytes);
    bytes[size - 2] = 0xff;
    bytes[size - 1] = 0xd9;
    return bytes;
  },
  pdf: (size = 2048): Buffer => {
    const bytes = Buffer.alloc(size, 0x20);
    Buffer.from('%PDF-1.4\n').copy(bytes);
    Buffer.from('\n%%EOF\n').copy(bytes, size - 7);
    return bytes;
  },
  /** An Ogg page with an OpusHead: a voice note as WhatsApp records them. */
  opus: (size = 2048): Buffer => {
    const bytes = Buffer.alloc(size, 0);
    Buffer.from('OggS').copy(bytes);
    bytes[4] = 0;
    bytes[5] = 2;
    Buffer.from('OpusHead').copy(bytes, 28);
    return bytes;
  },
};

/** A file encrypted as WhatsApp stores it on its CDN: AES-256-CBC, then the first 10 bytes of an HMAC-SHA256. */
export function encryptForWhatsApp(plain: Buffer, mediaKey: Buffer, info: string): Buffer {
  const keys = mediaKeys(mediaKey, info);
  const cipher = createCipheriv('aes-256-cbc', keys.cipherKey, keys.iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  const mac = createHmac('sha256', keys.macKey).update(keys.iv).update(encrypted).digest().subarray(0, 10);
  return Buffer.concat([encrypted, mac]);
}
