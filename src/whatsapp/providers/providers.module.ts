import { Module } from '@nestjs/common';
import { ExternalProvider } from '../external/external.provider';
import { PairingQrRepository } from '../pairing-qr.repository';
import { ProviderRegistry } from './provider-registry';

/** The provider registry, with the `external` provider that is always there, and the QRs holders share. */
@Module({ providers: [ProviderRegistry, ExternalProvider, PairingQrRepository], exports: [ProviderRegistry, PairingQrRepository] })
export class ProvidersModule {}
