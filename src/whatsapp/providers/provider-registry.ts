import { Injectable } from '@nestjs/common';
import { UnavailableError } from '../../common/errors/app-error';
import { AppConfig, ProviderName } from '../../config/app-config';
import { WhatsAppProvider } from '../whatsapp-provider';

export const PROVIDER_NAMES: readonly ProviderName[] = ['baileys', 'external'];

/**
 * The ingestion providers this process runs, by the name each session row records.
 *
 * A provider registers itself when its module starts; nothing here names it:
 *
 *   @Injectable()
 *   export class BaileysProvider extends WhatsAppProvider implements OnModuleInit {
 *     readonly name = 'baileys';
 *     constructor(private readonly registry: ProviderRegistry, private readonly sink: IngestionSink) { super(); }
 *     onModuleInit(): void { this.registry.register(this); }
 *   }
 *
 * with its module importing `ProvidersModule` (this registry) and `IngestionModule` (the sink), and
 * listed in `AppModule`.
 */
@Injectable()
export class ProviderRegistry {
  private readonly providers = new Map<ProviderName, WhatsAppProvider>();

  constructor(private readonly config: AppConfig) {}

  register(provider: WhatsAppProvider): void {
    if (this.providers.has(provider.name)) throw new Error(`the ${provider.name} provider is registered twice`);
    this.providers.set(provider.name, provider);
  }

  /** The provider of a session; 503 when this process does not run it. */
  get(name: string): WhatsAppProvider {
    const provider = this.providers.get(name as ProviderName);
    if (!provider) throw new UnavailableError(`the ${name} provider is not available`);
    return provider;
  }

  /** Every provider this process runs. */
  all(): WhatsAppProvider[] {
    return [...this.providers.values()];
  }

  /** The provider new sessions use (`WA_PROVIDER`). */
  forNewSessions(): WhatsAppProvider {
    return this.get(this.config.waProvider);
  }
}
