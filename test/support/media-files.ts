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

const box = (type: string, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
};

/** Small files with real headers, written byte by byte as their formats lay them out. */
export const DESCRIBED_FILES = {
  /** A PNG of `width` × `height` (its pixels left out: the headers are what is read). */
  png: (width: number, height: number): Buffer => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr.set([8, 6, 0, 0, 0], 8);
    const chunk = (type: string, data: Buffer) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(data.length);
      return Buffer.concat([length, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
    };
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IEND', Buffer.alloc(0))]);
  },
  /**
   * An MP4 of `durationMs` whose picture is `width` × `height` (turned a quarter when `turned`),
   * with a sound track first and `mdat` (of `mdatBytes`) before `moov`, as a camera writes it.
   */
  mp4: ({ durationMs, width, height, turned = false, mdatBytes = 4096, version = 0 }: { durationMs: number; width: number; height: number; turned?: boolean; mdatBytes?: number; version?: 0 | 1 }): Buffer => {
    const mvhd = Buffer.alloc(version === 1 ? 112 : 100);
    mvhd[0] = version;
    if (version === 1) {
      mvhd.writeUInt32BE(600, 20);
      mvhd.writeBigUInt64BE(BigInt(Math.round((durationMs * 600) / 1000)), 24);
    } else {
      mvhd.writeUInt32BE(600, 12);
      mvhd.writeUInt32BE(Math.round((durationMs * 600) / 1000), 16);
    }
    const tkhd = (w: number, h: number) => {
      const body = Buffer.alloc(84);
      const matrix = turned ? [0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000] : [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000];
      matrix.forEach((value, i) => body.writeInt32BE(value, 40 + i * 4));
      body.writeUInt32BE(w * 65536, 76);
      body.writeUInt32BE(h * 65536, 80);
      return box('tkhd', body);
    };
    return Buffer.concat([
      box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2avc1mp41', 'latin1')),
      box('free'),
      box('mdat', Buffer.alloc(mdatBytes, 0x11)),
      box('moov', box('mvhd', mvhd), box('trak', tkhd(0, 0), box('mdia')), box('trak', tkhd(width, height), box('mdia'))),
    ]);
  },
  /** An Ogg Opus stream of `durationMs` (a pre-skip of 312 samples at 48 kHz), in pages of `pageBytes`. */
  oggOpus: (durationMs: number, pageBytes = 1000): Buffer => {
    const pages: Buffer[] = [];
    const page = (granule: bigint, body: Buffer) => {
      const header = Buffer.alloc(27);
      header.write('OggS', 0, 'latin1');
      header.writeBigInt64LE(granule, 6);
      header.writeUInt32LE(pages.length, 18);
      const lacing: number[] = [];
      for (let left = body.length; ; left -= 255) {
        lacing.push(Math.min(255, left));
        if (left < 255) break;
      }
      header[26] = lacing.length;
      pages.push(Buffer.concat([header, Buffer.from(lacing), body]));
    };
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'latin1');
    head[8] = 1;
    head[9] = 1;
    head.writeUInt16LE(312, 10);
    head.writeUInt32LE(48_000, 12);
    page(0n, head);
    page(0n, Buffer.from('OpusTags\0\0\0\0\0\0\0\0', 'latin1'));
    const samples = (durationMs * 48_000) / 1000;
    for (let i = 1; i <= 5; i++) page(BigInt(312 + Math.round((samples * i) / 5)), Buffer.alloc(pageBytes, i));
    return Buffer.concat(pages);
  },
};
