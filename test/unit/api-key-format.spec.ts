import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { generateApiKey, hashApiKey, isApiKeyId, isWellFormedApiKey, looksLikeApiKey } from '../../src/auth/api-keys/api-key-format';

describe('API key format', () => {
  it('is wgw_ + 32 characters of randomness (192 bits) + a 6-character checksum', () => {
    const { key, prefix, hash } = generateApiKey();
    expect(key).toMatch(/^wgw_[A-Za-z0-9_-]{38}$/);
    expect(prefix).toBe(key.slice(0, 12));
    expect(hash.equals(createHash('sha256').update(key).digest())).toBe(true);
    expect(hashApiKey(key).equals(hash)).toBe(true);
    expect(isWellFormedApiKey(key)).toBe(true);
    expect(looksLikeApiKey(key)).toBe(true);
  });

  it('never repeats', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateApiKey().key));
    expect(keys.size).toBe(2000);
  });

  it('detects any single-character change by its checksum', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 41 }), fc.constantFrom(...alphabet), (position, replacement) => {
        const { key } = generateApiKey();
        fc.pre(key[position] !== replacement);
        const tampered = `${key.slice(0, position)}${replacement}${key.slice(position + 1)}`;
        return !isWellFormedApiKey(tampered);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses wrong lengths, characters and prefixes', () => {
    const { key } = generateApiKey();
    for (const bad of ['', 'wgw_', key.slice(0, -1), `${key}A`, `WGW_${key.slice(4)}`, `${key.slice(0, 10)}+${key.slice(11)}`, ` ${key}`]) {
      expect(isWellFormedApiKey(bad)).toBe(false);
    }
    expect(looksLikeApiKey('eyJhbGciOiJSUzI1NiJ9.e30.sig')).toBe(false);
  });

  it('recognises key ids as canonical ULIDs', () => {
    expect(isApiKeyId('01HF7Z3K8Q2V5N9T4W6X0Y1B2C')).toBe(true);
    for (const bad of ['01hf7z3k8q2v5n9t4w6x0y1b2c', '81HF7Z3K8Q2V5N9T4W6X0Y1B2C', '01HF7Z3K8Q2V5N9T4W6X0Y1B2', '01HF7Z3K8Q2V5N9T4W6X0Y1B2U', '']) {
      expect(isApiKeyId(bad)).toBe(false);
    }
  });
});
