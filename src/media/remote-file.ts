import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { Agent, buildConnector, Dispatcher, request } from 'undici';
import { AddressPolicy } from './address-policy';

/** Redirects followed, each to an address checked again. */
const MAX_REDIRECTS = 3;
/** The whole fetch, body included: a server that trickles bytes is cut off. */
const FETCH_TIMEOUT_MS = 30_000;
const MAX_URL_LENGTH = 2048;

/** Why a URL could not be fetched; the message is safe to show to the caller. */
export class RemoteFileError extends Error {}

export interface RemoteFile {
  body: Readable;
  /** The `Content-Type` the server sent, if any. */
  contentType: string | undefined;
  /** The last path segment of the final URL, decoded: a file name when the caller gives none. */
  fileName: string | null;
  /** Aborts the transfer (and the timeout's hold on it). */
  abort(): void;
}

/** Parses and checks a URL a caller gave: `http(s)`, no credentials, not too long. */
function parseUrl(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new RemoteFileError('is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RemoteFileError('must be an http or https URL');
  if (url.username || url.password) throw new RemoteFileError('must not carry credentials');
  if (url.href.length > MAX_URL_LENGTH) throw new RemoteFileError(`must be at most ${MAX_URL_LENGTH} characters`);
  return url;
}

function fileNameOf(url: URL): string | null {
  const last = url.pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(last) || null;
  } catch {
    return last || null;
  }
}

/**
 * Fetches files for `media.url` sends without becoming a way into the gateway's network: every
 * connection, the first and each redirect's, goes to an address the policy allows, checked on the
 * address actually connected to (a name is resolved here, and the socket is opened to that very
 * address, so DNS cannot answer differently in between). At most 3 redirects, 30 s in all.
 */
export class RemoteFileFetcher {
  private readonly dispatcher: Dispatcher;

  constructor(
    private readonly allowed: AddressPolicy,
    private readonly timeoutMs = FETCH_TIMEOUT_MS,
  ) {
    const connect = buildConnector({ timeout: 10_000 });
    this.dispatcher = new Agent({
      connect: (options, callback) => {
        const host = options.hostname.replace(/^\[|\]$/g, '');
        this.resolve(host).then(
          (address) =>
            connect({ ...options, hostname: address }, (error, socket) => {
              if (error) return callback(error, null);
              if (!socket.remoteAddress || !this.allowed(socket.remoteAddress)) {
                socket.destroy();
                return callback(new RemoteFileError('resolves to an address that is not public'), null);
              }
              callback(null, socket);
            }),
          (error: Error) => callback(error, null),
        );
      },
    });
  }

  /** Starts the download; the caller reads `body` (and must, or `abort`). Rejects with `RemoteFileError`. */
  async fetch(raw: string): Promise<RemoteFile> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new RemoteFileError(`did not deliver the file within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    const abort = () => {
      clearTimeout(timer);
      controller.abort(new RemoteFileError('the transfer was cancelled'));
    };
    let url = parseUrl(raw);
    try {
      for (let redirects = 0; ; redirects++) {
        const response = await request(url, {
          dispatcher: this.dispatcher,
          method: 'GET',
          signal: controller.signal,
          headers: { accept: '*/*', 'user-agent': 'whatsapp-gateway' },
        });
        const location = response.headers.location;
        if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
          await response.body.dump();
          if (redirects >= MAX_REDIRECTS) throw new RemoteFileError(`redirects more than ${MAX_REDIRECTS} times`);
          url = parseUrl(location, url);
          continue;
        }
        if (response.statusCode < 200 || response.statusCode >= 300) {
          await response.body.dump();
          throw new RemoteFileError(`answered HTTP ${response.statusCode}`);
        }
        const body = response.body;
        body.once('close', () => clearTimeout(timer));
        const contentType = response.headers['content-type'];
        return { body, contentType: typeof contentType === 'string' ? contentType : undefined, fileName: fileNameOf(url), abort };
      }
    } catch (error) {
      clearTimeout(timer);
      throw toRemoteFileError(error);
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** The address to connect to for `host`: the literal itself, or the first address the name resolves to; each must be allowed. */
  private async resolve(host: string): Promise<string> {
    if (isIP(host)) {
      if (!this.allowed(host)) throw new RemoteFileError('is not a public address');
      return host;
    }
    let addresses: { address: string }[];
    try {
      addresses = await lookup(host, { all: true });
    } catch {
      throw new RemoteFileError('names a host that does not resolve');
    }
    // Every address must pass: a name that also resolves to a private address is refused, not tried elsewhere.
    if (addresses.length === 0 || !addresses.every(({ address }) => this.allowed(address))) {
      throw new RemoteFileError('resolves to an address that is not public');
    }
    return addresses[0].address;
  }
}

/** What went wrong, as a caller-safe message; the connector's wrapping of our own errors is undone. */
export function toRemoteFileError(error: unknown): RemoteFileError {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof RemoteFileError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  const code = (error as { code?: string }).code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new RemoteFileError('did not answer in time');
  }
  return new RemoteFileError('could not be fetched');
}
