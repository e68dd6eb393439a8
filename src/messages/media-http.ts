import { ByteRange } from '../media/media-store';

/**
 * The one range a `Range` header asks of a file of `size` bytes: undefined to serve it whole (no
 * header, a unit other than bytes, several ranges, or a malformed header, all of which HTTP lets a
 * server ignore), or `'unsatisfiable'` when it starts past the end.
 */
export function requestedRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    // A suffix: the last n bytes.
    const length = Number(match[2]);
    if (length === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return undefined;
  return { start, end };
}

/**
 * Whether a `Range` may be honoured under `If-Range` (RFC 9110 13.1.5): with no `If-Range`, or one
 * naming exactly this strong `etag`. A date cannot be checked (no `Last-Modified` is sent), and a
 * weak or other tag means the client's part is of another file: the whole file is sent then.
 */
export function rangeAllowed(ifRange: string | undefined, etag: string): boolean {
  return ifRange === undefined || ifRange.trim() === etag;
}

/** Whether an `If-None-Match` header names `etag` (or `*`); weak tags compare equal, as RFC 9110 says for this header. */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}

/**
 * `inline`, or `attachment` with the file name: an ASCII fallback and the exact name in
 * `filename*` (RFC 6266), so that no name can break out of the header.
 */
export function contentDisposition(attachment: boolean, fileName: string | null): string {
  if (!attachment) return 'inline';
  if (!fileName) return 'attachment';
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
