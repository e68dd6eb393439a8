import { Module } from '@nestjs/common';
import { ExternalProvider } from '../external/external.provider';
import { ProviderRegistry } from './provider-registry';

/** The provider registry, with the `external` provider that is always there. */
@Module({ providers: [ProviderRegistry, ExternalProvider], exports: [ProviderRegistry] })
export class ProvidersModule {}
