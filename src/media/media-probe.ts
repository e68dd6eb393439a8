/** What a file's headers tell of it; null where they do not tell (or the format is not read). */
export interface MediaInfo {
  width: number | null;
  height: number | null;
  durationMs: number | null;
}

/** A parser asks for the next `read` bytes whole, or to pass over the next `skip` bytes. */
type Step = { read: number } | { skip: number };
/** Reads from the stream through its steps and writes what it learns into the info as it goes. */
type Parser = Generator<Step, void, Buffer>;

/** No header a parser reads is larger (a JPEG segment is at most 64 KiB); a larger ask is a file not understood. */
const MAX_READ = 256 * 1024;
/** Dimensions past this are not believed (WhatsApp's own limit is far lower). */
const MAX_SIDE = 100_000;

const side = (value: number): number | null => (Number.isInteger(value) && value > 0 && value <= MAX_SIDE ? value : null);

/**
 * Reads width, height and duration from a file's headers while it streams through, never holding
 * more than one header: it is told every chunk (`write`) and asked at the end (`info`).
 *
 * Covered: PNG, GIF, WebP (lossy, lossless, extended) and JPEG (the SOF segment, with the EXIF
 * orientation turning the sides), for images and stickers; ISO media files (MP4, M4A, 3GP, MOV:
 * the duration of `mvhd` and the sides of the first visual track's `tkhd`, turned by its matrix),
 * wherever `moov` is, since `mdat` is passed over; Ogg Opus and Vorbis, the duration from the
 * granule position of the last page, the pages being walked as they pass. Not covered (null): MP3,
 * AAC, AMR and anything else.
 */
export class MediaProbe {
  private readonly found: MediaInfo = { width: null, height: null, durationMs: null };
  private parser: Parser | null = null;
  private step: Step | IteratorResult<Step, void> | null = null;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private done = false;
  /** The first bytes, until there are enough to tell the format. */
  private start = Buffer.alloc(0);

  write(chunk: Buffer): void {
    if (this.done) return;
    if (!this.parser) {
      this.start = Buffer.concat([this.start, chunk]);
      if (this.start.length < 12) return;
      const parser = parserFor(this.start, this.found);
      if (!parser) {
        this.done = true;
        return;
      }
      this.parser = parser;
      chunk = this.start;
      this.start = Buffer.alloc(0);
      this.advance(parser.next());
    }
    this.feed(chunk);
  }

  /** What the headers told. */
  info(): MediaInfo {
    return { ...this.found };
  }

  private feed(chunk: Buffer): void {
    let at = 0;
    while (!this.done && at < chunk.length) {
      const step = this.step as Step;
      if ('skip' in step) {
        const passed = Math.min(step.skip, chunk.length - at);
        at += passed;
        step.skip -= passed;
        if (step.skip === 0) this.advance(this.parser!.next(Buffer.alloc(0)));
        continue;
      }
      const taken = Math.min(step.read - this.heldBytes, chunk.length - at);
      this.held.push(chunk.subarray(at, at + taken));
      this.heldBytes += taken;
      at += taken;
      if (this.heldBytes === step.read) {
        const bytes = Buffer.concat(this.held, this.heldBytes);
        this.held = [];
        this.heldBytes = 0;
        this.advance(this.parser!.next(bytes));
      }
    }
  }

  private advance(result: IteratorResult<Step, void>): void {
    if (result.done) {
      this.done = true;
      return;
    }
    const step = result.value;
    const size = 'read' in step ? step.read : step.skip;
    if (!Number.isSafeInteger(size) || size < 0 || ('read' in step && size > MAX_READ)) {
      this.done = true;
      return;
    }
    // A step of nothing is taken at once.
    if (size === 0) return this.advance(this.parser!.next(Buffer.alloc(0)));
    this.step = { ...step };
  }
}

function parserFor(head: Buffer, info: MediaInfo): Parser | null {
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return png(info);
  if (head.toString('latin1', 0, 6) === 'GIF87a' || head.toString('latin1', 0, 6) === 'GIF89a') return gif(info);
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return webp(info);
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return jpeg(info);
  if (head.toString('latin1', 4, 8) === 'ftyp') return isoMedia(info);
  if (head.toString('latin1', 0, 4) === 'OggS') return ogg(info);
  return null;
}

function* png(info: MediaInfo): Parser {
  const header = yield { read: 24 };
  if (header.toString('latin1', 12, 16) !== 'IHDR') return;
  info.width = side(header.readUInt32BE(16));
  info.height = side(header.readUInt32BE(20));
}

function* gif(info: MediaInfo): Parser {
  const header = yield { read: 10 };
  info.width = side(header.readUInt16LE(6));
  info.height = side(header.readUInt16LE(8));
}

function* webp(info: MediaInfo): Parser {
  const header = yield { read: 30 };
  const chunk = header.toString('latin1', 12, 16);
  let width = 0;
  let height = 0;
  if (chunk === 'VP8 ' && header[23] === 0x9d && header[24] === 0x01 && header[25] === 0x2a) {
    width = header.readUInt16LE(26) & 0x3fff;
    height = header.readUInt16LE(28) & 0x3fff;
  } else if (chunk === 'VP8L' && header[20] === 0x2f) {
    const bits = header.readUInt32LE(21);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (chunk === 'VP8X') {
    width = header.readUIntLE(24, 3) + 1;
    height = header.readUIntLE(27, 3) + 1;
  }
  info.width = side(width);
  info.height = side(height);
}

/** The SOF markers that carry the frame's sides (not DHT C4, JPG C8, DAC CC). */
const isFrameStart = (marker: number): boolean => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

function* jpeg(info: MediaInfo): Parser {
  yield { read: 2 };
  let turned = false;
  for (;;) {
    let marker = (yield { read: 1 })[0];
    if (marker !== 0xff) return;
    // Any number of fill bytes may come before the marker.
    while (marker === 0xff) marker = (yield { read: 1 })[0];
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    // The image data (SOS) or its end before any frame header: the sides are not told.
    if (marker === 0xda || marker === 0xd9) return;
    const length = (yield { read: 2 }).readUInt16BE(0);
    if (length < 2) return;
    if (isFrameStart(marker)) {
      const frame = yield { read: 5 };
      const height = side(frame.readUInt16BE(1));
      const width = side(frame.readUInt16BE(3));
      info.width = turned ? height : width;
      info.height = turned ? width : height;
      return;
    }
    if (marker === 0xe1) {
      const segment = yield { read: length - 2 };
      turned ||= exifTurnsSides(segment);
    } else {
      yield { skip: length - 2 };
    }
  }
}

/** Whether an APP1 segment is EXIF with an orientation (5 to 8) that shows the image turned a quarter. */
function exifTurnsSides(segment: Buffer): boolean {
  if (segment.length < 14 || segment.toString('latin1', 0, 6) !== 'Exif\0\0') return false;
  const tiff = segment.subarray(6);
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return false;
  const le = order === 'II';
  const u16 = (at: number) => (le ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (le ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return false;
  const entries = u16(ifd);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return false;
    if (u16(entry) === 0x0112) return u16(entry + 8) >= 5 && u16(entry + 8) <= 8;
  }
  return false;
}

function* isoMedia(info: MediaInfo): Parser {
  // The boxes being walked, outermost first, with the bytes left of each: the file, then `moov`, then a `trak`.
  const open: { type: string; left: number }[] = [{ type: 'file', left: Number.POSITIVE_INFINITY }];
  for (;;) {
    const header = yield { read: 8 };
    let size = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    let headerSize = 8;
    if (size === 1) {
      size = Number((yield { read: 8 }).readBigUInt64BE(0));
      headerSize = 16;
    } else if (size === 0) {
      // The box runs to the end of the file (an `mdat`, in practice): nothing comes after it.
      return;
    }
    const parent = open[open.length - 1];
    parent.left -= size;
    if (size < headerSize || parent.left < 0) return;
    const body = size - headerSize;
    if ((type === 'moov' && open.length === 1) || (type === 'trak' && parent.type === 'moov')) {
      open.push({ type, left: body });
    } else if (type === 'mvhd' && parent.type === 'moov') {
      const box = yield { read: Math.min(body, 32) };
      const v1 = box[0] === 1;
      if (box.length >= (v1 ? 32 : 20)) {
        const timescale = box.readUInt32BE(v1 ? 20 : 12);
        const duration = v1 ? box.readBigUInt64BE(24) : BigInt(box.readUInt32BE(16));
        // All ones: the duration is not known.
        const unknown = duration === (v1 ? 0xffffffffffffffffn : 0xffffffffn);
        if (timescale > 0 && !unknown) info.durationMs = Math.round((Number(duration) * 1000) / timescale);
      }
      yield { skip: body - Math.min(body, 32) };
    } else if (type === 'tkhd' && parent.type === 'trak' && info.width === null) {
      const box = yield { read: Math.min(body, 96) };
      const height = box[0] === 1 ? 92 : 80;
      if (box.length >= height + 4) {
        const w = box.readUInt32BE(height - 4) / 65536;
        const h = box.readUInt32BE(height) / 65536;
        // The matrix (a, b, u, c, d, …) turns the picture a quarter when a and d are zero.
        const matrix = height - 40;
        const turned = box.readInt32BE(matrix) === 0 && box.readInt32BE(matrix + 16) === 0;
        // Sound tracks have no sides: the first track that has them is the picture.
        if (w > 0 && h > 0) {
          info.width = side(Math.round(turned ? h : w));
          info.height = side(Math.round(turned ? w : h));
        }
      }
      yield { skip: body - Math.min(body, 96) };
    } else {
      yield { skip: body };
    }
    while (open.length > 1 && open[open.length - 1].left === 0) {
      // `moov` read to its end: all it tells is known.
      if (open.pop()!.type === 'moov') return;
    }
  }
}

function* ogg(info: MediaInfo): Parser {
  let rate = 0;
  let preSkip = 0;
  for (let page = 0; ; page++) {
    const header = yield { read: 27 };
    if (header.toString('latin1', 0, 4) !== 'OggS') return;
    const granule = header.readBigInt64LE(6);
    const lengths = yield { read: header[26] };
    let body = 0;
    for (const length of lengths) body += length;
    if (page === 0) {
      const first = yield { read: body };
      if (first.toString('latin1', 0, 8) === 'OpusHead' && first.length >= 12) {
        // Opus always counts 48 kHz; the pre-skip samples are not played.
        rate = 48_000;
        preSkip = first.readUInt16LE(10);
      } else if (first.toString('latin1', 1, 7) === 'vorbis' && first[0] === 1 && first.length >= 16) {
        rate = first.readUInt32LE(12);
      } else {
        return;
      }
      continue;
    }
    yield { skip: body };
    // -1: no packet ends on this page.
    if (granule >= 0n && rate > 0) info.durationMs = Math.max(0, Math.round((Number(granule - BigInt(preSkip)) * 1000) / rate));
  }
}
