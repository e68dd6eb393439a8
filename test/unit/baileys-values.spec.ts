import fc from 'fast-check';
import { normalizeJid, phoneNumberOf } from '../../src/whatsapp/baileys/baileys-jid';
import { summarizeContent, unwrapContent } from '../../src/whatsapp/baileys/baileys-message-content';
import { muteEndToMutedUntil, secondsToEpochMs, toNumber } from '../../src/whatsapp/baileys/baileys-values';

describe('toNumber', () => {
  it('reads numbers, numeric strings and Long objects with or without methods', () => {
    expect(toNumber(1732400000)).toBe(1732400000);
    expect(toNumber('1732400000')).toBe(1732400000);
    expect(toNumber({ low: 1732400000, high: 0, unsigned: true })).toBe(1732400000);
    expect(toNumber({ low: 1, high: 1, unsigned: false, toNumber: () => 4294967297 })).toBe(4294967297);
    expect(toNumber(null)).toBeNull();
    expect(toNumber(undefined)).toBeNull();
    expect(toNumber('12a')).toBeNull();
    expect(toNumber(Number.NaN)).toBeNull();
  });

  it('reads the low word as unsigned and the high word by signedness', () => {
    // 2^31 seconds (2038) as protobufjs stores it: low is the int32 bit pattern.
    expect(toNumber({ low: -2147483648, high: 0, unsigned: true })).toBe(2147483648);
    expect(toNumber({ low: -1, high: -1, unsigned: false })).toBe(-1);
    expect(toNumber({ low: 1527154712, high: 403, unsigned: false })).toBe(1732398975000);
  });

  it('round-trips any safe integer through {low, high}', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (n) => {
        const high = Math.floor(n / 2 ** 32);
        const low = (n - high * 2 ** 32) | 0;
        expect(toNumber({ low, high, unsigned: false })).toBe(n);
      }),
    );
  });
});

describe('WhatsApp instants', () => {
  it('turns second timestamps into epoch ms; absent or zero is null', () => {
    expect(secondsToEpochMs({ low: 1732400100, high: 0, unsigned: true })).toBe(1732400100000);
    expect(secondsToEpochMs(0)).toBeNull();
    expect(secondsToEpochMs(null)).toBeNull();
  });

  it('reads mute ends in seconds or ms, -1 (or any negative) as always, 0 or null as unmuted', () => {
    expect(muteEndToMutedUntil(1767225600)).toBe(1767225600000);
    expect(muteEndToMutedUntil({ low: 1767225600, high: 0, unsigned: true })).toBe(1767225600000);
    expect(muteEndToMutedUntil(1767225600000)).toBe(1767225600000);
    expect(muteEndToMutedUntil(-1)).toBe(-1);
    expect(muteEndToMutedUntil({ low: -1, high: -1, unsigned: false })).toBe(-1);
    expect(muteEndToMutedUntil(0)).toBeNull();
    expect(muteEndToMutedUntil(null)).toBeNull();
  });
});

describe('JIDs', () => {
  it('drops the device and the legacy c.us server, keeps groups and @lid', () => {
    expect(normalizeJid('6281200000000:12@s.whatsapp.net')).toBe('6281200000000@s.whatsapp.net');
    expect(normalizeJid('6281200000000@c.us')).toBe('6281200000000@s.whatsapp.net');
    expect(normalizeJid('215492034568291:3@lid')).toBe('215492034568291@lid');
    expect(normalizeJid('120363025246125486@g.us')).toBe('120363025246125486@g.us');
    expect(normalizeJid('nonsense')).toBeNull();
    expect(normalizeJid(undefined)).toBeNull();
  });

  it('reads the phone number of a phone JID only', () => {
    expect(phoneNumberOf('6281200000000:12@s.whatsapp.net')).toBe('6281200000000');
    expect(phoneNumberOf('215492034568291@lid')).toBeNull();
    expect(phoneNumberOf(null)).toBeNull();
  });
});

describe('message content', () => {
  it('unwraps nested envelopes, but not without end', () => {
    const inner = { conversation: 'hi' };
    expect(unwrapContent({ ephemeralMessage: { message: { viewOnceMessage: { message: inner } } } })).toBe(inner);
    expect(unwrapContent({ deviceSentMessage: { destinationJid: 'x@s.whatsapp.net', message: inner } })).toBe(inner);
    let deep: object = inner;
    for (let i = 0; i < 50; i += 1) deep = { ephemeralMessage: { message: deep } };
    expect(() => summarizeContent(deep)).not.toThrow();
  });

  it('gives signalling no summary and anything else unknown', () => {
    expect(summarizeContent(null)).toBeNull();
    expect(summarizeContent({})).toBeNull();
    expect(summarizeContent({ protocolMessage: { type: 3 }, messageContextInfo: {} })).toBeNull();
    expect(summarizeContent({ pollUpdateMessage: {} })).toBeNull();
    expect(summarizeContent({ eventMessage: { name: 'Rapat' } })).toEqual({ type: 'unknown', text: null });
    expect(summarizeContent({ conversation: '' })).toEqual({ type: 'text', text: null });
    expect(summarizeContent({ ptvMessage: {} })).toEqual({ type: 'video', text: null });
    expect(summarizeContent({ liveLocationMessage: {} })).toEqual({ type: 'location', text: null });
    expect(summarizeContent({ lottieStickerMessage: { message: { stickerMessage: {} } } })).toEqual({ type: 'sticker', text: null });
    expect(summarizeContent({ reactionMessage: { text: '' } })).toEqual({ type: 'reaction', text: null });
  });
});
