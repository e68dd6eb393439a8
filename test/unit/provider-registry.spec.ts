import { UnavailableError } from '../../src/common/errors/app-error';
import { loadConfig } from '../../src/config/app-config';
import { ExternalProvider } from '../../src/whatsapp/external/external.provider';
import { ProviderRegistry } from '../../src/whatsapp/providers/provider-registry';

describe('provider registry', () => {
  const config = (env: Record<string, string> = {}) => loadConfig({ DATABASE_URL: 'postgres://x@127.0.0.1/x', ...env });

  it('finds the providers that registered themselves, and the one for new sessions', () => {
    const registry = new ProviderRegistry(config({ WA_PROVIDER: 'external' }));
    const external = new ExternalProvider(registry, config());
    external.onModuleInit();
    expect(registry.get('external')).toBe(external);
    expect(registry.forNewSessions()).toBe(external);
  });

  it('answers 503 for a provider this process does not run, and refuses a second registration', () => {
    const registry = new ProviderRegistry(config({ WA_PROVIDER: 'baileys' }));
    const external = new ExternalProvider(registry, config());
    external.onModuleInit();
    expect(() => registry.forNewSessions()).toThrow(UnavailableError);
    expect(() => registry.get('baileys')).toThrow('the baileys provider is not available');
    expect(() => registry.get('other')).toThrow(UnavailableError);
    expect(() => external.onModuleInit()).toThrow('registered twice');
  });
});
