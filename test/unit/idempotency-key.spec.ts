import { ValidationError } from '../../src/common/errors/app-error';
import { parseIdempotencyKey, requestHash } from '../../src/messages/idempotency-key';
import { newOutgoingMessageId } from '../../src/messages/message-id';

describe('Idempotency-Key', () => {
  it('takes 1 to 255 visible ASCII characters and spaces, and no header at all', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    for (const key of ['a', 'order 1042/shipped', '~'.repeat(255), '{"json": true}']) expect(parseIdempotencyKey(key)).toBe(key);
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a tab', 'a\tb'],
    ['a latin-1 letter', 'kunci-é'],
    ['repeated headers', ['a', 'b']],
  ])('refuses a key that is %s with a 422 naming the header', (_name, value) => {
    expect(() => parseIdempotencyKey(value)).toThrow(ValidationError);
    try {
      parseIdempotencyKey(value);
    } catch (error) {
      expect((error as ValidationError).details).toEqual({ fields: { 'Idempotency-Key': ['must be 1 to 255 visible ASCII characters'] } });
    }
  });

  it('hashes what a send asks for, not how its JSON was written', () => {
    expect(requestHash({ type: 'text', text: 'halo' })).toBe(requestHash(JSON.parse('{"text":"halo","type":"text"}') as { type: string; text: string }));
    expect(requestHash({ type: 'text', text: 'halo' })).not.toBe(requestHash({ type: 'text', text: 'halo ' }));
    // The fields cannot run into each other.
    expect(requestHash({ type: 'text', text: 'a' })).not.toBe(requestHash({ type: 'texta', text: '' }));
    expect(requestHash({ type: 'text', text: 'halo' })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('tells replies, places and contact cards apart, whatever the order of their JSON', () => {
    expect(requestHash({ type: 'text', text: 'halo', replyTo: 'A1' })).not.toBe(requestHash({ type: 'text', text: 'halo' }));
    expect(requestHash({ type: 'text', text: 'halo', replyTo: 'A1' })).not.toBe(requestHash({ type: 'text', text: 'halo', replyTo: 'A2' }));
    const place = { type: 'location', location: { latitude: -6.2, longitude: 106.8, name: 'Monas' } };
    const reordered = JSON.parse('{"location":{"name":"Monas","longitude":106.8,"latitude":-6.2},"type":"location"}') as typeof place;
    expect(requestHash(place)).toBe(requestHash(reordered));
    expect(requestHash(place)).not.toBe(requestHash({ ...place, location: { ...place.location, latitude: -6.21 } }));
    const card = { type: 'contact', contacts: [{ name: 'Budi', phoneNumber: '6281234567890' }] };
    expect(requestHash(card)).not.toBe(requestHash({ ...card, contacts: [{ name: 'Budi', phoneNumber: '6281234567891' }] }));
    expect(requestHash(card)).not.toBe(requestHash({ ...card, contacts: [...card.contacts, ...card.contacts] }));
  });
});

describe('outgoing message ids', () => {
  it('look like WhatsApp Web ids and do not repeat', () => {
    const ids = Array.from({ length: 1000 }, () => newOutgoingMessageId());
    for (const id of ids) expect(id).toMatch(/^3EB0[0-9A-F]{36}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
