import { randomBytes } from 'node:crypto';
import { fromBufferJson, toBufferJson } from '../../src/whatsapp/baileys/buffer-json';
import { CredentialsUnreadableError, SessionAuthCipher } from '../../src/whatsapp/baileys/session-auth-cipher';

describe('BufferJSON', () => {
  it('writes bytes as base64 the way Baileys does and reads them back as Buffers', () => {
    const value = { a: Buffer.from([1, 2, 3]), b: new Uint8Array([255]), nested: [{ c: Buffer.alloc(0) }], n: 7 };
    const text = toBufferJson(value);
    expect(JSON.parse(text)).toEqual({
      a: { type: 'Buffer', data: 'AQID' },
      b: { type: 'Buffer', data: '/w==' },
      nested: [{ c: { type: 'Buffer', data: '' } }],
      n: 7,
    });
    const back = fromBufferJson<{ a: Buffer; b: Buffer; nested: { c: Buffer }[]; n: number }>(text);
    expect(Buffer.isBuffer(back.a) && back.a.equals(Buffer.from([1, 2, 3]))).toBe(true);
    expect(Buffer.isBuffer(back.b) && back.b[0] === 255).toBe(true);
    expect(Buffer.isBuffer(back.nested[0].c)).toBe(true);
    expect(back.n).toBe(7);
  });

  it('reads byte arrays that went through plain JSON ({"0":1,...}) as Buffers, as Baileys does', () => {
    const back = fromBufferJson<{ k: Buffer; o: object }>('{"k":{"0":9,"1":8},"o":{"x":1}}');
    expect(back.k.equals(Buffer.from([9, 8]))).toBe(true);
    expect(back.o).toEqual({ x: 1 });
  });
});

describe('SessionAuthCipher', () => {
  const key = randomBytes(32);
  const cipher = new SessionAuthCipher(key);
  const plaintext = Buffer.from('{"noiseKey":"secret"}');

  it('seals with a fresh IV each time and opens what it sealed', () => {
    const a = cipher.seal(plaintext, 'S/creds');
    const b = cipher.seal(plaintext, 'S/creds');
    expect(a.equals(b)).toBe(false);
    expect(a[0]).toBe(1);
    expect(a.includes(Buffer.from('secret'))).toBe(false);
    expect(cipher.open(a, 'S/creds').equals(plaintext)).toBe(true);
  });

  it('refuses a value under another key, naming both key ids', () => {
    const other = new SessionAuthCipher(randomBytes(32));
    const sealed = other.seal(plaintext, 'S/creds');
    expect(() => cipher.open(sealed, 'S/creds')).toThrow(CredentialsUnreadableError);
    expect(() => cipher.open(sealed, 'S/creds')).toThrow(new RegExp(`key id ${other.keyId}.*${cipher.keyId}`));
  });

  it('refuses a tampered value, one moved to another row, and an unknown format', () => {
    const sealed = cipher.seal(plaintext, 'S/creds');
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] ^= 1;
    expect(() => cipher.open(tampered, 'S/creds')).toThrow(/failed authentication/);
    expect(() => cipher.open(sealed, 'T/creds')).toThrow(/failed authentication/);
    expect(() => cipher.open(Buffer.from([2, ...sealed.subarray(1)]), 'S/creds')).toThrow(/not in a known format/);
    expect(() => cipher.open(Buffer.alloc(3), 'S/creds')).toThrow(/not in a known format/);
  });

  it('only takes a 32-byte key', () => {
    expect(() => new SessionAuthCipher(randomBytes(16))).toThrow(/32 bytes/);
  });
});
