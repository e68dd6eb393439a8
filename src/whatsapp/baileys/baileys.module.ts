import { DynamicModule, Injectable, Module, ModuleMetadata, OnModuleInit } from '@nestjs/common';
import { PairingQrRepository } from '../pairing-qr.repository';
import { ProviderRegistry } from '../providers/provider-registry';
import { BaileysClock, SystemClock } from './baileys-clock';
import { BaileysSocketFactory } from './baileys-socket';
import { EsmBaileysSocketFactory } from './baileys-socket.factory';
import { BAILEYS_TUNING, BaileysTuning, DEFAULT_BAILEYS_TUNING } from './baileys-tuning';
import { BaileysProvider } from './baileys.provider';
import { SessionAuthRepository } from './session-auth.repository';
import { SessionAuthService } from './session-auth.service';
import { SessionEncryptionKeyService } from './session-encryption-key.service';
import { WhatsAppMediaDownloader } from './whatsapp-media-downloader';

export interface BaileysModuleOptions {
  /** Modules that export the `IngestionSink` and, unless `registerProvider` is false, the `ProviderRegistry`. */
  imports?: ModuleMetadata['imports'];
  /** Registers the provider as `baileys` in the `ProviderRegistry` (default true). */
  registerProvider?: boolean;
  /** Replaces the real sockets (tests use a stand-in). */
  socketFactory?: BaileysSocketFactory;
  clock?: BaileysClock;
  tuning?: Partial<BaileysTuning>;
  /** Replaces the download of received files from WhatsApp's CDN (tests serve them locally). */
  mediaDownloader?: WhatsAppMediaDownloader;
}

/** Puts the provider in the registry, where sessions whose provider is `baileys` find it. */
@Injectable()
class BaileysProviderRegistration implements OnModuleInit {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly provider: BaileysProvider,
  ) {}

  onModuleInit(): void {
    this.registry.register(this.provider);
  }
}

/**
 * The `baileys` provider: WhatsApp Web sockets, credentials encrypted in PostgreSQL, and the
 * mapping of socket events into the `IngestionSink` its imports provide.
 */
@Module({})
export class BaileysModule {
  static register(options: BaileysModuleOptions): DynamicModule {
    return {
      module: BaileysModule,
      imports: options.imports ?? [],
      providers: [
        BaileysProvider,
        SessionAuthService,
        SessionAuthRepository,
        SessionEncryptionKeyService,
        PairingQrRepository,
        options.socketFactory
          ? { provide: BaileysSocketFactory, useValue: options.socketFactory }
          : { provide: BaileysSocketFactory, useClass: EsmBaileysSocketFactory },
        { provide: BaileysClock, useValue: options.clock ?? new SystemClock() },
        { provide: WhatsAppMediaDownloader, useValue: options.mediaDownloader ?? new WhatsAppMediaDownloader() },
        { provide: BAILEYS_TUNING, useValue: { ...DEFAULT_BAILEYS_TUNING, ...options.tuning } },
        ...(options.registerProvider === false ? [] : [BaileysProviderRegistration]),
      ],
      exports: [BaileysProvider, SessionAuthService],
    };
  }
}
