import { MediaInfo, MediaProbe } from '../../src/media/media-probe';
import { DESCRIBED_FILES, SAMPLE_FILES } from '../support/media-files';

/** What the probe reads of `bytes` told in chunks of `chunkBytes` (as a stream would). */
function probe(bytes: Buffer, chunkBytes = bytes.length): MediaInfo {
  const reader = new MediaProbe();
  for (let at = 0; at < bytes.length; at += chunkBytes) reader.write(bytes.subarray(at, at + chunkBytes));
  return reader.info();
}

/** Every way of cutting a file into chunks must tell the same. */
function expectEveryChunking(bytes: Buffer, expected: MediaInfo): void {
  for (const chunkBytes of [1, 7, 4096, bytes.length]) expect([chunkBytes, probe(bytes, chunkBytes)]).toEqual([chunkBytes, expected]);
}

const sides = (width: number | null, height: number | null): MediaInfo => ({ width, height, durationMs: null });

/** A JPEG: SOI, an APP0, optional segments, then a baseline SOF0 of `width` × `height`. */
function jpeg(width: number, height: number, segments: Buffer[] = []): Buffer {
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0, 0, 1, 0, 1, 0, 0]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, ...segments, sof, Buffer.from([0xff, 0xda, 0x00, 0x02]), Buffer.alloc(64, 0x55), Buffer.from([0xff, 0xd9])]);
}

/** An APP1 EXIF segment whose IFD0 holds the orientation tag, in either byte order. */
function exif(orientation: number, order: 'II' | 'MM' = 'II'): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  const le = order === 'II';
  const u16 = (value: number, at: number) => (le ? tiff.writeUInt16LE(value, at) : tiff.writeUInt16BE(value, at));
  const u32 = (value: number, at: number) => (le ? tiff.writeUInt32LE(value, at) : tiff.writeUInt32BE(value, at));
  tiff.write(order, 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  u16(1, 8);
  u16(0x0112, 10);
  u16(3, 12);
  u32(1, 14);
  u16(orientation, 18);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([header, body]);
}

/** An APPn segment of `bytes` of filler (a large embedded thumbnail or ICC profile). */
function filler(marker: number, bytes: number): Buffer {
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(bytes + 2, 2);
  return Buffer.concat([header, Buffer.alloc(bytes, 0xab)]);
}

describe('reading sides and duration from file headers while streaming', () => {
  it('reads PNG sides from IHDR', () => {
    expectEveryChunking(DESCRIBED_FILES.png(640, 480), sides(640, 480));
    expect(probe(SAMPLE_FILES.png)).toEqual(sides(1, 1));
  });

  it('reads GIF sides from the logical screen', () => {
    const gif = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([0x40, 0x01, 0xf0, 0x00, 0xf7, 0, 0]), Buffer.alloc(32)]);
    expectEveryChunking(gif, sides(320, 240));
  });

  it('reads WebP sides from lossy, lossless and extended headers', () => {
    const riff = (chunk: Buffer) => {
      const head = Buffer.from('RIFF\0\0\0\0WEBP', 'latin1');
      head.writeUInt32LE(4 + chunk.length, 4);
      return Buffer.concat([head, chunk, Buffer.alloc(16)]);
    };
    const lossy = Buffer.from('VP8 \x20\0\0\0\x10\x02\0\x9d\x01\x2a\0\0\0\0', 'latin1');
    lossy.writeUInt16LE(512, 14 + 0);
    lossy.writeUInt16LE(384, 16);
    expectEveryChunking(riff(lossy), sides(512, 384));
    const lossless = Buffer.from('VP8L\x20\0\0\0\x2f\0\0\0\0', 'latin1');
    lossless.writeUInt32LE((100 - 1) | ((50 - 1) << 14), 9);
    expectEveryChunking(riff(lossless), sides(100, 50));
    const extended = Buffer.from('VP8X\x0a\0\0\0\x10\0\0\0\0\0\0\0\0\0', 'latin1');
    extended.writeUIntLE(4000 - 1, 12, 3);
    extended.writeUIntLE(3000 - 1, 15, 3);
    expectEveryChunking(riff(extended), sides(4000, 3000));
  });

  it('reads JPEG sides from the frame header, past large segments and fill bytes, turned by the EXIF orientation', () => {
    expectEveryChunking(jpeg(1280, 960), sides(1280, 960));
    expectEveryChunking(jpeg(1280, 960, [filler(0xe2, 60_000), Buffer.from([0xff, 0xff])]), sides(1280, 960));
    expectEveryChunking(jpeg(1280, 960, [exif(6)]), sides(960, 1280));
    expectEveryChunking(jpeg(1280, 960, [exif(8, 'MM')]), sides(960, 1280));
    expectEveryChunking(jpeg(1280, 960, [exif(1)]), sides(1280, 960));
    // No frame header before the image data: the sides are not told.
    expect(probe(SAMPLE_FILES.jpeg())).toEqual(sides(null, null));
  });

  it('reads an MP4 duration from mvhd and its picture sides from the visual track, with moov after mdat', () => {
    expectEveryChunking(DESCRIBED_FILES.mp4({ durationMs: 12_340, width: 1280, height: 720, mdatBytes: 100_000 }), { width: 1280, height: 720, durationMs: 12_340 });
    expectEveryChunking(DESCRIBED_FILES.mp4({ durationMs: 5_000, width: 1920, height: 1080, turned: true }), { width: 1080, height: 1920, durationMs: 5_000 });
    expectEveryChunking(DESCRIBED_FILES.mp4({ durationMs: 61_000, width: 640, height: 360, version: 1 }), { width: 640, height: 360, durationMs: 61_000 });
  });

  it('reads an Ogg Opus duration from the granule position of its last page', () => {
    expectEveryChunking(DESCRIBED_FILES.oggOpus(3_000), { width: null, height: null, durationMs: 3_000 });
    expectEveryChunking(DESCRIBED_FILES.oggOpus(125_500, 4000), { width: null, height: null, durationMs: 125_500 });
  });

  it('tells nothing of formats it does not read, or of files cut off or malformed', () => {
    const none = sides(null, null);
    const mp3 = Buffer.concat([Buffer.from('ID3\x04\0\0\0\0\0\0', 'latin1'), Buffer.alloc(2000, 0xff)]);
    expect(probe(mp3)).toEqual(none);
    expect(probe(SAMPLE_FILES.pdf())).toEqual(none);
    expect(probe(DESCRIBED_FILES.png(640, 480).subarray(0, 20))).toEqual(none);
    expect(probe(Buffer.alloc(0))).toEqual(none);
    // A box that claims more bytes than its parent holds.
    const mp4 = DESCRIBED_FILES.mp4({ durationMs: 1000, width: 10, height: 10 });
    const broken = Buffer.from(mp4);
    broken.writeUInt32BE(0x7fffffff, broken.indexOf('mvhd', 0, 'latin1') - 4);
    expect(probe(broken)).toEqual(none);
    // A JPEG segment of impossible length.
    expect(probe(Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x01, 0, 0, 0, 0, 0, 0]))).toEqual(none);
  });
});
