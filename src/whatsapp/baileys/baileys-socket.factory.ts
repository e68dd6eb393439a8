import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticationCreds, SignalKeyStore, WAVersion } from 'baileys';
import { Logger } from 'pino';
import { LOGGER } from '../../common/logging/logging.module';
import { importEsm } from '../../database/esm-import';
import { BaileysSocket, BaileysSocketFactory, BaileysSocketOptions } from './baileys-socket';

type BaileysPackage = typeof import('baileys');

const VERSION_FETCH_TIMEOUT_MS = 5_000;
/** How long a fetched WhatsApp Web version is used before asking again; after a failure, sooner. */
const VERSION_TTL_MS = 6 * 60 * 60 * 1000;
const VERSION_RETRY_MS = 5 * 60 * 1000;

/**
 * Real Baileys sockets. The package is ESM-only: it is imported on the first connection, through
 * a dynamic `import()` that the CommonJS build keeps as is.
 */
@Injectable()
export class EsmBaileysSocketFactory extends BaileysSocketFactory {
  private loading: Promise<BaileysPackage> | null = null;
  private version: { value: WAVersion; until: number } | null = null;

  constructor(@Inject(LOGGER) private readonly logger: Logger) {
    super();
  }

  async initialCreds(): Promise<AuthenticationCreds> {
    return (await this.load()).initAuthCreds();
  }

  async create(options: BaileysSocketOptions): Promise<BaileysSocket> {
    const { auth, logger } = options;
    const baileys = await this.load();
    const keys = baileys.makeCacheableSignalKeyStore(withProtoAppStateKeys(auth.keys, baileys), logger);
    const socket: BaileysSocket = baileys.makeWASocket({
      version: await this.webVersion(baileys),
      auth: { creds: auth.creds, keys },
      logger,
      browser: baileys.Browsers.ubuntu('Chrome'),
      // The gateway is a server: the phone keeps its notifications.
      markOnlineOnConnect: false,
      // Recent history (what a newly linked WhatsApp Web shows), not years of it.
      syncFullHistory: false,
      getMessage: (key) => options.getMessage(key),
    });
    return socket;
  }

  private load(): Promise<BaileysPackage> {
    this.loading ??= importEsm<BaileysPackage>('baileys').catch((error: unknown) => {
      this.loading = null;
      throw error;
    });
    return this.loading;
  }

  /**
   * WhatsApp turns away clients that announce an outdated web version, and the one the package
   * ships ages: ask WhatsApp for the current one now and then, else use the shipped one.
   */
  private async webVersion(baileys: BaileysPackage): Promise<WAVersion> {
    if (this.version && this.version.until > Date.now()) return this.version.value;
    const latest = await baileys.fetchLatestWaWebVersion({ signal: AbortSignal.timeout(VERSION_FETCH_TIMEOUT_MS) });
    if (!latest.isLatest) {
      this.logger.warn({ err: latest.error }, 'could not read the current WhatsApp Web version; using the one Baileys ships');
    }
    this.version = { value: latest.version, until: Date.now() + (latest.isLatest ? VERSION_TTL_MS : VERSION_RETRY_MS) };
    return latest.version;
  }
}

/** App-state keys come back from JSON as plain objects; Baileys expects the protobuf class. */
function withProtoAppStateKeys(keys: SignalKeyStore, baileys: BaileysPackage): SignalKeyStore {
  return {
    get: async (type, ids) => {
      const values = await keys.get(type, ids);
      if (type !== 'app-state-sync-key') return values;
      const converted: typeof values = {};
      for (const [id, value] of Object.entries(values)) {
        converted[id] = baileys.proto.Message.AppStateSyncKeyData.fromObject(value as object) as unknown as typeof value;
      }
      return converted;
    },
    set: (data) => keys.set(data),
  };
}
