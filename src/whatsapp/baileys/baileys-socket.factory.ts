import { Injectable } from '@nestjs/common';
import type { AuthenticationCreds, SignalKeyStore } from 'baileys';
import { importEsm } from '../../database/esm-import';
import { BaileysSocket, BaileysSocketFactory, BaileysSocketOptions } from './baileys-socket';

type BaileysPackage = typeof import('baileys');

/**
 * Real Baileys sockets. The package is ESM-only: it is imported on the first connection, through
 * a dynamic `import()` that the CommonJS build keeps as is.
 */
@Injectable()
export class EsmBaileysSocketFactory extends BaileysSocketFactory {
  private loading: Promise<BaileysPackage> | null = null;

  private load(): Promise<BaileysPackage> {
    this.loading ??= importEsm<BaileysPackage>('baileys').catch((error: unknown) => {
      this.loading = null;
      throw error;
    });
    return this.loading;
  }

  async initialCreds(): Promise<AuthenticationCreds> {
    return (await this.load()).initAuthCreds();
  }

  async create(options: BaileysSocketOptions): Promise<BaileysSocket> {
    const { auth, logger } = options;
    const baileys = await this.load();
    const keys = baileys.makeCacheableSignalKeyStore(withProtoAppStateKeys(auth.keys, baileys), logger);
    const socket: BaileysSocket = baileys.makeWASocket({
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
